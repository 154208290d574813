import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { InstanceAttributes, InstanceRecord, SeriesAttributes } from '../../dicom/instance-record.js';
import type { KeyObjectDocument } from '../../dicom/key-object-document.js';
import { decodeRejection, keyObjectEntries, rejectionNoteOf } from '../merge.js';
import type { Rejection, SeriesState, StudyState } from '../../dicom/study-state.js';
import {
  finishedStatus,
  type PageRequest,
  type PublishAttempt,
  type PublishFinish,
  type PublishStart,
  type PublishState,
  type PublishStatus,
  type StudyPage,
  type StudySearch,
  type StudyStore,
  type StudySummary,
  type SummaryFilter,
} from '../study-store.js';
import { DEFAULT_PREFIX, stateIndexKey, studyKeyPattern, studyKeys, studyNoteKeys } from './keys.js';
import { storedAttributes } from './attribute-lists.js';
import { PUBLISH_STATES, STATUS_FIELDS, StudyScripts, type StudyStateReply } from './study-scripts.js';
import { RedisStudySearch } from './study-search.js';
import { copyRejections } from './rejected-copy.js';

export { PUBLISH_STATES } from './study-scripts.js';

export interface RedisStudyStoreOptions {
  client: Redis;
  logger: Logger;
  /** Key prefix (default `dfb`). */
  prefix?: string;
  /** Quit the client on close() (default false: the caller owns it). */
  ownsClient?: boolean;
}

const SUMMARY_FIELDS = ['firstReceivedAt', 'lastReceivedAt', 'state', ...STATUS_FIELDS] as const;

/**
 * StudyStore on Redis. Per study (all keys hash-tagged by its UID): a study
 * hash (attributes as canonical JSON, receipt, times, publish status and
 * generation), a series hash, an instances hash and a series-size hash. A
 * merge of the records of one study is one Lua script (atomic; the scripts
 * are lua/*.lua, called through StudyScripts). Rejection notes (see
 * StudyStore): per referenced study, one script that remembers the rejected
 * SOP Instance UIDs (rejections hash), removes them and keeps the note and
 * the study's latest rejection, atomically; merges skip rejected instances.
 * A non-rejection KOS keeps its document in the study's key-objects hash. Summaries by state come
 * from one sorted set per publish state (score: lastReceivedAt). The
 * publish protocol (see StudyStore) keeps the generation in the study hash:
 * the merge scripts bump it with every change, finish-publish compares it.
 *
 * Trade-off (Redis Cluster): a script cannot touch keys of two slots, so the
 * state index is updated by a second command after the study's script. Each
 * writer re-reads the study's state after updating the index and repeats
 * until they agree, so concurrent writers converge; a process that dies
 * between the two commands leaves the index stale for that study until the
 * next change of the study or rebuildStateIndex(). Readers always take the
 * state from the study hash and drop index entries that disagree.
 */
export class RedisStudyStore implements StudyStore {
  private readonly client: Redis;
  private readonly scripts: StudyScripts;
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly ownsClient: boolean;
  private readonly indexKeys: string[];
  private closed = false;
  /** The admin console's search index and publish history (study-search.ts). */
  private readonly console: RedisStudySearch;

  constructor(options: RedisStudyStoreOptions) {
    this.client = options.client;
    this.logger = options.logger;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.ownsClient = options.ownsClient ?? false;
    this.indexKeys = PUBLISH_STATES.map((s) => stateIndexKey(this.prefix, s));
    this.scripts = new StudyScripts(this.client, this.prefix);
    this.console = new RedisStudySearch(this.client, this.prefix, this.logger);
  }

  async mergeInstances(records: InstanceRecord[]): Promise<string[]> {
    const changed = new Set<string>();
    // Runs of plain records merge per study in parallel; a rejection note is applied in its place in the batch.
    let run: InstanceRecord[] = [];
    for (const record of records) {
      const note = rejectionNoteOf(record);
      if (note === undefined) {
        run.push(record);
        continue;
      }
      for (const uid of await this.mergeRun(run)) changed.add(uid);
      run = [];
      const json = JSON.stringify(record);
      for (const [studyUid, sopUids] of note.byStudy) {
        const reply = await this.scripts.rejectInstances(studyUid, note, json, sopUids);
        // The receivers' check reads a copy in the instances stream's slot (rejected-copy.ts).
        const values = await this.client.hmget(studyNoteKeys(this.prefix, studyUid).rejections, ...sopUids);
        await copyRejections(
          this.client,
          this.prefix,
          studyUid,
          new Map(sopUids.flatMap((sop, i) => (values[i] ? [[sop, values[i]!] as [string, string]] : []))),
        );
        if (reply.state !== null) await this.syncIndex(studyUid, reply.state, reply.lastReceivedAt);
        if (reply.report) changed.add(studyUid);
      }
      this.logger.info(
        { kosSopInstanceUid: note.kosSopInstanceUid, reason: note.reason, studies: [...note.byStudy.keys()] },
        'rejection note merged',
      );
    }
    for (const uid of await this.mergeRun(run)) changed.add(uid);
    return [...changed];
  }

  async rejectionOf(studyInstanceUid: string, sopInstanceUid: string): Promise<Rejection | undefined> {
    const value = await this.client.hget(studyNoteKeys(this.prefix, studyInstanceUid).rejections, sopInstanceUid);
    const decoded = decodeRejection(value);
    return decoded === undefined ? undefined : { reason: decoded.reason, kosSopInstanceUid: decoded.kosSopInstanceUid };
  }

  /** Merges records that are not rejection notes: one script per study. */
  private async mergeRun(records: InstanceRecord[]): Promise<string[]> {
    if (records.length === 0) return [];
    const byStudy = new Map<string, InstanceRecord[]>();
    for (const record of records) {
      const studyUid = record.study?.studyInstanceUid;
      const seriesUid = record.series?.seriesInstanceUid;
      const sopUid = record.instance?.sopInstanceUid;
      if (!studyUid || !seriesUid || !sopUid) {
        // [merge:record-without-uids-skipped] The SCP rejects such instances (C000H); one slipping through must not block the queue.
        this.logger.warn({ studyUid, seriesUid, sopUid }, 'instance record without its UIDs skipped');
        continue;
      }
      const list = byStudy.get(studyUid);
      if (list === undefined) byStudy.set(studyUid, [record]);
      else list.push(record);
    }
    const results = await Promise.all(
      [...byStudy].map(async ([studyUid, studyRecords]) => {
        const reply = await this.scripts.mergeInstances(studyUid, studyRecords);
        await this.syncIndex(studyUid, reply.state, reply.lastReceivedAt);
        await this.console.sync(studyUid);
        return reply.report ? studyUid : undefined;
      }),
    );
    return results.filter((uid): uid is string => uid !== undefined);
  }

  async getStudy(studyInstanceUid: string): Promise<StudyState | undefined> {
    const k = { ...studyKeys(this.prefix, studyInstanceUid), ...studyNoteKeys(this.prefix, studyInstanceUid) };
    const replies = await this.client
      .pipeline()
      .hgetall(k.study)
      .hgetall(k.series)
      .hgetall(k.instances)
      .hgetall(k.keyObjects)
      .get(k.studyRejection)
      .exec();
    const [study, series, instances, keyObjects, studyRejection] = pipelineValues<unknown>(replies) as [
      Record<string, string> | undefined,
      Record<string, string> | undefined,
      Record<string, string> | undefined,
      Record<string, string> | undefined,
      string | null | undefined,
    ];
    if (study === undefined || study.lastReceivedAt === undefined) return undefined;
    return assembleState(studyInstanceUid, {
      study,
      series: series ?? {},
      instances: instances ?? {},
      keyObjects: keyObjects ?? {},
      studyRejection: studyRejection ?? null,
    });
  }

  async getSummary(studyInstanceUid: string): Promise<StudySummary | undefined> {
    return this.readSummary(studyInstanceUid, true);
  }

  /**
   * Newest first (by last received instance, then UID). Summaries in a list
   * leave out lastResource. An index entry whose study says otherwise (see
   * the class comment) is left out, so a list may come out shorter than
   * `limit` for a moment.
   */
  async listSummaries(filter: SummaryFilter = {}): Promise<StudySummary[]> {
    const limit = filter.limit !== undefined && filter.limit >= 0 ? filter.limit : undefined;
    if (limit === 0) return [];
    const states = filter.state === undefined ? PUBLISH_STATES : [filter.state];
    const uids = new Set<string>();
    for (const state of states) {
      for (const uid of await this.endOfIndex(stateIndexKey(this.prefix, state), limit, filter.oldestFirst === true)) {
        uids.add(uid);
      }
    }
    const summaries = await Promise.all([...uids].map((uid) => this.readSummary(uid, false)));
    const kept = summaries.filter(
      (s): s is StudySummary => s !== undefined && (filter.state === undefined || s.publish.state === filter.state),
    );
    kept.sort((a, b) =>
      a.lastReceivedAt === b.lastReceivedAt
        ? a.studyInstanceUid < b.studyInstanceUid
          ? -1
          : a.studyInstanceUid > b.studyInstanceUid
            ? 1
            : 0
        : (a.lastReceivedAt < b.lastReceivedAt) !== (filter.oldestFirst === true)
          ? 1
          : -1,
    );
    return limit === undefined ? kept : kept.slice(0, limit);
  }

  async beginPublish(studyInstanceUid: string): Promise<PublishStart | undefined> {
    const begun = await this.scripts.beginPublish(studyInstanceUid);
    if (begun === undefined) return undefined;
    const state = assembleState(studyInstanceUid, begun);
    if (begun.previousState !== 'pending') await this.syncIndex(studyInstanceUid, 'pending', state.lastReceivedAt);
    const status = statusOf(begun.study, true);
    return { state, status, generation: Number.parseInt(begun.study.generation ?? '0', 10) };
  }

  async finishPublish(studyInstanceUid: string, generation: number, outcome: PublishFinish): Promise<PublishState | undefined> {
    const reply = await this.scripts.finishPublish(studyInstanceUid, generation, outcome.state, finishedStatus(outcome));
    return this.afterStatus(studyInstanceUid, reply);
  }

  async republish(studyInstanceUid: string): Promise<PublishState | undefined> {
    const reply = await this.scripts.republish(studyInstanceUid);
    if (reply === undefined) return undefined;
    if (reply.previousState !== 'pending') await this.syncIndex(studyInstanceUid, 'pending', reply.lastReceivedAt);
    return reply.previousState;
  }

  async setPublishStatus(studyInstanceUid: string, status: Partial<PublishStatus> & { state: PublishState }): Promise<void> {
    await this.afterStatus(studyInstanceUid, await this.scripts.setPublishStatus(studyInstanceUid, status.state, status));
  }

  /** Index update after a status script; the state the study is left in. */
  private async afterStatus(studyInstanceUid: string, reply: StudyStateReply | undefined): Promise<PublishState | undefined> {
    if (reply === undefined) return undefined;
    await this.syncIndex(studyInstanceUid, reply.state, reply.lastReceivedAt);
    return (reply.state ?? undefined) as PublishState | undefined;
  }

  async countByState(): Promise<Record<PublishState, number>> {
    const pipeline = this.client.pipeline();
    for (const key of this.indexKeys) pipeline.zcard(key);
    const counts = pipelineValues<number>(await pipeline.exec());
    const out = { pending: 0, published: 0, failed: 0 } as Record<PublishState, number>;
    PUBLISH_STATES.forEach((state, i) => (out[state] = counts[i] ?? 0));
    return out;
  }

  /**
   * Rebuilds the state index from the study hashes (SCAN; on a Cluster, run
   * against each master). For recovery after a crash between a study's
   * script and its index update. Returns the number of studies indexed.
   */
  async rebuildStateIndex(): Promise<number> {
    let cursor = '0';
    let count = 0;
    const tagStart = this.prefix.length + 2;
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', studyKeyPattern(this.prefix), 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const uid = key.slice(tagStart, key.length - '}:study'.length);
        const [state, lastReceivedAt] = await this.client.hmget(key, 'state', 'lastReceivedAt');
        await this.syncIndex(uid, state, lastReceivedAt);
        count += 1;
      }
    } while (cursor !== '0');
    return count;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await quitOrDisconnect(this.client);
  }

  // ---- the admin console (study-search.ts) ----

  async searchSummaries(search: StudySearch, page: PageRequest): Promise<StudyPage> {
    return this.console.search(search, page);
  }

  async recordPublishAttempt(studyInstanceUid: string, attempt: PublishAttempt): Promise<void> {
    await this.console.record(studyInstanceUid, attempt);
  }

  async publishHistory(studyInstanceUid: string): Promise<PublishAttempt[]> {
    return this.console.history(studyInstanceUid);
  }

  /** Rebuilds the search index from the study hashes (like rebuildStateIndex); returns the number of studies. */
  async rebuildSearchIndex(): Promise<number> {
    return this.console.rebuild();
  }

  /** Puts the study in the set of its state, then re-reads the state until index and hash agree. */
  private async syncIndex(studyUid: string, state: string | null, lastReceivedAt: string | null): Promise<void> {
    const k = studyKeys(this.prefix, studyUid);
    for (let round = 0; round < 10; round += 1) {
      await this.scripts.moveStateIndex(studyUid, state, scoreOf(lastReceivedAt));
      const [nowState, nowAt] = await this.client.hmget(k.study, 'state', 'lastReceivedAt');
      if (nowState === state && nowAt === lastReceivedAt) return;
      state = nowState;
      lastReceivedAt = nowAt;
    }
    this.logger.warn({ studyUid }, 'state index of a study kept changing; left for the next update');
  }

  /** The newest (or oldest) `limit` members of a state index, with every member tied on the last score. */
  private async endOfIndex(key: string, limit: number | undefined, oldest: boolean): Promise<string[]> {
    if (limit === undefined) return oldest ? this.client.zrange(key, '0', '-1') : this.client.zrevrange(key, 0, -1);
    const withScores = oldest
      ? await this.client.zrange(key, '0', String(limit - 1), 'WITHSCORES')
      : await this.client.zrevrange(key, 0, limit - 1, 'WITHSCORES');
    const uids: string[] = [];
    for (let i = 0; i < withScores.length; i += 2) uids.push(withScores[i]!);
    if (uids.length === limit && withScores.length >= 2) {
      const lastScore = withScores[withScores.length - 1]!;
      uids.push(...(await this.client.zrangebyscore(key, lastScore, lastScore)));
    }
    return uids;
  }

  private async readSummary(studyUid: string, withResource: boolean): Promise<StudySummary | undefined> {
    const k = studyKeys(this.prefix, studyUid);
    const replies = await this.client
      .pipeline()
      .hmget(k.study, ...SUMMARY_FIELDS)
      .hlen(k.seriesSizes)
      .hlen(k.instances)
      .exec();
    const [fields, numberOfSeries, numberOfInstances] = pipelineValues<unknown>(replies) as [
      (string | null)[],
      number,
      number,
    ];
    const f = Object.fromEntries(SUMMARY_FIELDS.map((name, i) => [name, fields[i] ?? undefined])) as Record<
      (typeof SUMMARY_FIELDS)[number],
      string | undefined
    >;
    if (f.lastReceivedAt === undefined) return undefined;
    const publish = statusOf(f, withResource);
    return {
      studyInstanceUid: studyUid,
      numberOfSeries,
      numberOfInstances,
      firstReceivedAt: f.firstReceivedAt ?? f.lastReceivedAt,
      lastReceivedAt: f.lastReceivedAt,
      publish,
    };
  }
}

export async function quitOrDisconnect(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through
    }
  }
  client.disconnect();
}

/** The publish status in a study hash's fields. */
function statusOf(f: Partial<Record<string, string>>, withResource: boolean): PublishStatus {
  const publish: PublishStatus = {
    state: (f.state ?? 'pending') as PublishState,
    attempts: Number.parseInt(f.attempts ?? '0', 10),
  };
  if (f.lastError !== undefined) publish.lastError = f.lastError;
  if (f.note !== undefined) publish.note = f.note;
  if (f.publishedAt !== undefined) publish.publishedAt = f.publishedAt;
  if (f.resourceId !== undefined) publish.resourceId = f.resourceId;
  if (withResource && f.lastResource !== undefined) publish.lastResource = JSON.parse(f.lastResource);
  return publish;
}

/** The StudyState of a study's hashes (its study hash has lastReceivedAt). */
function assembleState(
  studyInstanceUid: string,
  hashes: {
    study: Record<string, string>;
    series: Record<string, string>;
    instances: Record<string, string>;
    keyObjects: Record<string, string>;
    studyRejection: string | null;
  },
): StudyState {
  const { study } = hashes;
  const bySeries = new Map<string, SeriesState>();
  for (const [seriesUid, value] of Object.entries(hashes.series)) {
    // Stored before attribute lists: receivedAt \t seriesJson.
    const list = value.includes('\t') ? splitFields(value, 2)[1] : value;
    bySeries.set(seriesUid, { attributes: storedAttributes<SeriesAttributes>(list), instances: [] });
  }
  for (const value of Object.values(hashes.instances)) {
    const [, seriesUid, list] = splitFields(value, 3);
    bySeries.get(seriesUid!)?.instances.push(storedAttributes<InstanceAttributes>(list));
  }
  const series = [...bySeries.values()].filter((s) => s.instances.length > 0);
  for (const s of series) {
    s.instances.sort((a, b) => compareNumberThenUid(a.instanceNumber, a.sopInstanceUid, b.instanceNumber, b.sopInstanceUid));
  }
  series.sort((a, b) =>
    compareNumberThenUid(a.attributes.seriesNumber, a.attributes.seriesInstanceUid, b.attributes.seriesNumber, b.attributes.seriesInstanceUid),
  );
  const lastReceivedAt = study.lastReceivedAt!;
  const state: StudyState = {
    studyInstanceUid,
    patient: storedAttributes(study.patient),
    study: storedAttributes(study.study),
    series,
    lastReceipt: JSON.parse(study.lastReceipt ?? '{}'),
    firstReceivedAt: study.firstReceivedAt ?? lastReceivedAt,
    lastReceivedAt,
  };
  if (study.charset) state.specificCharacterSet = study.charset;
  const rejection = decodeRejection(hashes.studyRejection);
  if (rejection) state.rejection = { reason: rejection.reason, kosSopInstanceUid: rejection.kosSopInstanceUid };
  const documents = new Map<string, KeyObjectDocument>();
  for (const [sop, json] of Object.entries(hashes.keyObjects)) documents.set(sop, JSON.parse(json) as KeyObjectDocument);
  const keyObjects = keyObjectEntries(series, documents);
  if (keyObjects.length > 0) state.keyObjects = keyObjects;
  return state;
}

function pipelineValues<T>(replies: [Error | null, unknown][] | null): (T | undefined)[] {
  if (replies === null) throw new Error('redis pipeline aborted');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}

/** Splits `value` at its first `count - 1` tabs. */
function splitFields(value: string, count: number): (string | undefined)[] {
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < count - 1; i += 1) {
    const tab = value.indexOf('\t', from);
    if (tab < 0) break;
    out.push(value.slice(from, tab));
    from = tab + 1;
  }
  out.push(value.slice(from));
  return out;
}

function scoreOf(iso: string | null): number {
  const ms = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isFinite(ms) ? ms : 0;
}

/** Numbers first (ascending), then missing numbers; ties by UID. */
function compareNumberThenUid(an: number | undefined, au: string, bn: number | undefined, bu: string): number {
  const aHas = typeof an === 'number' && Number.isFinite(an);
  const bHas = typeof bn === 'number' && Number.isFinite(bn);
  if (aHas && bHas && an !== bn) return an! - bn!;
  if (aHas !== bHas) return aHas ? -1 : 1;
  return au < bu ? -1 : au > bu ? 1 : 0;
}
