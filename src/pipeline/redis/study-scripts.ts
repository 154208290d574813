/**
 * The Lua scripts of the Redis study store (lua/*.lua), called through one
 * typed class: it owns the order of each script's KEYS, builds its ARGV and
 * reads its reply. Each script touches the keys of one study only (one hash
 * tag, one Cluster slot), except move-state-index, which touches the three
 * state sets (they share their own hash tag).
 */
import type { Redis } from 'ioredis';
import type { InstanceRecord } from '../../dicom/instance-record.js';
import { KEY_OBJECT_SELECTION_SOP_CLASS } from '../../dicom/key-object-document.js';
import { canonicalJson, precedenceOf, type RejectionNote } from '../merge.js';
import { incomingList } from './attribute-lists.js';
import type { PublishState, PublishStatus } from '../study-store.js';
import { stateIndexKey, studyKeys, studyNoteKeys } from './keys.js';
import { loadLuaScript, runLuaScript, type LuaScript } from './lua-script.js';

const LUA = new URL('./lua/', import.meta.url);
const SCRIPTS = {
  mergeInstances: loadLuaScript(LUA, 'merge-instances-6.lua'),
  rejectInstances: loadLuaScript(LUA, 'reject-instances-8.lua'),
  beginPublish: loadLuaScript(LUA, 'begin-publish-5.lua'),
  finishPublish: loadLuaScript(LUA, 'finish-publish-1.lua'),
  republish: loadLuaScript(LUA, 'republish-1.lua'),
  setPublishStatus: loadLuaScript(LUA, 'set-publish-status-1.lua'),
  moveStateIndex: loadLuaScript(LUA, 'move-state-index-3.lua'),
} satisfies Record<string, LuaScript>;

export const PUBLISH_STATES: readonly PublishState[] = ['pending', 'published', 'failed'];

/** PublishStatus members (other than state) as they are kept in the study hash. */
export const STATUS_FIELDS = ['attempts', 'lastError', 'note', 'publishedAt', 'lastResource', 'resourceId'] as const;

/** A study's publish state and last received time after a script (null: unset, or no such study). */
export interface StudyStateReply {
  state: string | null;
  lastReceivedAt: string | null;
}

/** The reply of a merge or a rejection: whether to report the study, and its state after. */
export interface MergeReply extends StudyStateReply {
  report: boolean;
}

/** What begin-publish read, hashes as HGETALL gives them (field → value). */
export interface BegunPublish {
  study: Record<string, string>;
  series: Record<string, string>;
  instances: Record<string, string>;
  keyObjects: Record<string, string>;
  studyRejection: string | null;
  /** The state before the attempt marked it pending (null when unset). */
  previousState: string | null;
}

export class StudyScripts {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  /** Merges records of one study (none a rejection note, all with their UIDs). */
  async mergeInstances(studyUid: string, records: InstanceRecord[]): Promise<MergeReply> {
    const k = this.keys(studyUid);
    const args: (string | number)[] = [records.length];
    for (const record of records) {
      // 13 per record, in the order of the script's header.
      args.push(
        record.instance.sopInstanceUid,
        record.series.seriesInstanceUid,
        record.receipt.receivedAt,
        precedenceOf(record.receipt),
        record.specificCharacterSet ?? '',
        incomingList(record.patient ?? {}),
        incomingList(record.study),
        JSON.stringify(record.receipt),
        record.receipt.callingAeTitle ?? '',
        incomingList(record.series),
        incomingList(record.instance),
        record.keyObject ? canonicalJson(record.keyObject) : '',
        record.instance.sopClassUid === KEY_OBJECT_SELECTION_SOP_CLASS ? '1' : '0',
      );
    }
    const reply = await this.run(
      SCRIPTS.mergeInstances,
      [k.study, k.series, k.instances, k.seriesSizes, k.rejections, k.keyObjects],
      args,
    );
    return mergeReply(reply);
  }

  /** Applies a rejection note to one study it references; `sopUids` are the note's references in that study. */
  async rejectInstances(studyUid: string, note: RejectionNote, recordJson: string, sopUids: string[]): Promise<MergeReply> {
    const k = this.keys(studyUid);
    const reply = await this.run(
      SCRIPTS.rejectInstances,
      [k.study, k.series, k.instances, k.seriesSizes, k.rejections, k.studyRejection, k.rejectionNotes, k.keyObjects],
      [note.kosSopInstanceUid, note.reason, note.receivedAt, recordJson, ...sopUids],
    );
    return mergeReply(reply);
  }

  async beginPublish(studyUid: string): Promise<BegunPublish | undefined> {
    const k = this.keys(studyUid);
    const reply = await this.run(SCRIPTS.beginPublish, [k.study, k.series, k.instances, k.keyObjects, k.studyRejection], []);
    if (reply === null) return undefined;
    const [study, series, instances, keyObjects, studyRejection, previousState] = reply as [
      string[],
      string[],
      string[],
      string[],
      string | null,
      string | null,
    ];
    return {
      study: pairs(study),
      series: pairs(series),
      instances: pairs(instances),
      keyObjects: pairs(keyObjects),
      studyRejection,
      previousState,
    };
  }

  /** Sets `status` (see statusArgs), and `state` when the study's generation is still `generation`. */
  async finishPublish(studyUid: string, generation: number, state: PublishState, status: Partial<PublishStatus>): Promise<StudyStateReply | undefined> {
    const reply = await this.run(SCRIPTS.finishPublish, [this.keys(studyUid).study], [String(generation), state, ...statusArgs(status)]);
    return stateReply(reply);
  }

  /** Returns the state before, and lastReceivedAt; undefined for an unknown study. */
  async republish(studyUid: string): Promise<{ previousState: PublishState; lastReceivedAt: string } | undefined> {
    const reply = await this.run(SCRIPTS.republish, [this.keys(studyUid).study], []);
    if (reply === null) return undefined;
    const [previousState, lastReceivedAt] = reply as [PublishState, string];
    return { previousState, lastReceivedAt };
  }

  async setPublishStatus(studyUid: string, state: PublishState, status: Partial<PublishStatus>): Promise<StudyStateReply | undefined> {
    const reply = await this.run(SCRIPTS.setPublishStatus, [this.keys(studyUid).study], [state, ...statusArgs(status)]);
    return stateReply(reply);
  }

  /** Puts the study in the state set of `state`; null takes it out of all. */
  async moveStateIndex(studyUid: string, state: string | null, score: number): Promise<void> {
    const target = state === null ? 0 : PUBLISH_STATES.indexOf(state as PublishState) + 1;
    await this.run(
      SCRIPTS.moveStateIndex,
      PUBLISH_STATES.map((s) => stateIndexKey(this.prefix, s)),
      [studyUid, target, score],
    );
  }

  private keys(studyUid: string) {
    return { ...studyKeys(this.prefix, studyUid), ...studyNoteKeys(this.prefix, studyUid) };
  }

  private run(script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    return runLuaScript(this.client, script, keys, args);
  }
}

/**
 * ARGV of the status fields (includes/status-fields.lua): the number of
 * fields set, field/value pairs, then the fields deleted (a member present
 * with the value undefined or null).
 */
function statusArgs(status: Partial<PublishStatus>): string[] {
  const sets: string[] = [];
  const dels: string[] = [];
  for (const field of STATUS_FIELDS) {
    if (!Object.prototype.hasOwnProperty.call(status, field)) continue;
    const value = status[field];
    if (value === undefined || value === null) dels.push(field);
    else sets.push(field, field === 'lastResource' ? JSON.stringify(value) : String(value));
  }
  return [String(sets.length / 2), ...sets, ...dels];
}

function mergeReply(reply: unknown): MergeReply {
  const [report, state, lastReceivedAt] = reply as [number, string | null, string | null];
  return { report: report === 1, state, lastReceivedAt };
}

function stateReply(reply: unknown): StudyStateReply | undefined {
  if (reply === null) return undefined;
  const [state, lastReceivedAt] = reply as [string | null, string | null];
  return { state, lastReceivedAt };
}

/** A flat HGETALL reply as an object. */
function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
