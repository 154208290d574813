/**
 * The study merge: its rules as a named table (MERGE_RULES), and the pure
 * helpers both stores share (canonical JSON, "latest received wins", the
 * precedence of sources and the attribute-by-attribute merge, rejection
 * notes). No I/O. The SQLite merge (sqlite/study-store.ts) and the
 * Redis merge (redis/lua/*.lua) cite each rule where they apply it, as
 * `[merge:<id>]`; the StudyStore contract tests have one test per rule
 * (test/pipeline/store-contract.ts), and test/pipeline/merge-rules.test.ts
 * checks that both stores cite every rule.
 *
 * Adding a rule: add its row here, then the compiler asks for its contract
 * test (MERGE_RULE_TESTS is a Record over the ids) and the citation test
 * for its `[merge:<id>]` in both stores.
 */
import type { InstanceRecord, ReceiptData, RecordSource } from '../dicom/instance-record.js';
import type { KeyObjectDocument, RejectionReason } from '../dicom/key-object-document.js';
import type { KeyObjectEntry, Rejection, SeriesState } from '../dicom/study-state.js';

export interface MergeRule {
  /** Kebab-case name, cited as `[merge:<id>]` where a store applies the rule. */
  readonly id: string;
  readonly statement: string;
}

/** What a merge of instance records into their studies does, rule by rule. */
export const MERGE_RULES = [
  {
    id: 'keyed-by-sop-instance-uid',
    statement: 'An instance is identified by its SOP Instance UID: a re-send replaces it, never adds a second one.',
  },
  {
    id: 'latest-received-wins',
    statement:
      'Patient, study and series attributes are those of the latest received record (receivedAt; a tie goes to the record merged later); an older record does not overwrite them.',
  },
  {
    id: 'older-instance-changes-nothing',
    statement:
      'A record received before the stored one of the same SOP Instance UID replaces none of that instance\'s values, does not move it and leaves its document; it only fills in a value the instance lacks (latest-present-value-wins).',
  },
  {
    id: 'first-received-is-earliest',
    statement: 'The study is first received at the earliest receivedAt of its records, an older record merged later included.',
  },
  {
    id: 'change-is-a-different-value',
    statement:
      'A change is a value that differs in canonical JSON (sorted keys) from the stored one; a pure re-send is no change and causes no publish.',
  },
  {
    id: 'calling-ae-is-a-change',
    statement: 'Another calling AE title on the latest record is a change: it selects the peer settings of the mapping.',
  },
  {
    id: 'sop-moves-between-series',
    statement: 'An instance re-sent with another Series Instance UID moves to that series; a series left empty goes.',
  },
  {
    id: 'change-restarts-publish',
    statement:
      'A change marks the study pending with attempts 0, clears its last error and note and bumps its generation, so a publish running meanwhile finishes pending.',
  },
  {
    id: 'pending-study-reported',
    statement:
      'A touched study still pending is reported even without a change, so a batch merged again after a crash still gets its publish scheduled.',
  },
  {
    id: 'record-without-uids-skipped',
    statement: 'A record without its Study, Series or SOP Instance UID is skipped with a log line; the rest of the batch is merged.',
  },
  {
    id: 'rejected-instances-stay-out',
    statement:
      'An instance rejected by an IHE IOCM rejection note, merged before or after the note, is skipped whole (its study and series attributes too).',
  },
  {
    id: 'rejection-removes-instances',
    statement: 'A rejection note removes the instances it references from their studies (a series left empty goes) and is itself no instance.',
  },
  {
    id: 'rejection-creates-no-study',
    statement: 'A rejection note does not create a study it references that is not in the store.',
  },
  {
    id: 'latest-rejection-wins',
    statement: 'Of two notes rejecting the same instance, or touching the same study, the latest received is remembered.',
  },
  {
    id: 'key-object-document-kept',
    statement:
      'A Key Object Selection Document that is no rejection note is an instance whose document is kept with it, and goes when the instance goes.',
  },
  {
    id: 'latest-present-value-wins',
    statement:
      'An absent or empty value never erases a known one: each patient, study, series and instance attribute is that of the latest record that has it (a later instance without Body Part Examined keeps the series\' body part; a KOS read without its document keeps the known one), whatever the order of arrival.',
  },
  {
    id: 'c-store-outranks-import',
    statement:
      'A value received by C-STORE is replaced only by another C-STORE\'s: an imported record (DICOMweb, C-FIND, files) fills in only what no C-STORE gave, whatever the order of arrival, so a study sent live and also imported keeps the live attributes (and the live receipt, whose calling AE selects the peer settings); among imports, the latest present value wins.',
  },
] as const satisfies readonly MergeRule[];

export type MergeRuleId = (typeof MERGE_RULES)[number]['id'];

/**
 * JSON with object keys sorted, so two equal values give the same string
 * whatever the order their keys were set in. `undefined` members are left out,
 * as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = sortKeys(member);
    }
    return out;
  }
  return value;
}

/**
 * Whether attributes received at `incoming` replace those received at
 * `stored` (ISO 8601 UTC timestamps, comparable as strings). Ties go to the
 * record merged later, which is the one queued later. [merge:latest-received-wins]
 */
export function isLatest(incoming: string, stored: string | undefined): boolean {
  return stored === undefined || incoming >= stored;
}

/**
 * What each source may overwrite: a value of a higher rank is replaced only
 * by one of the same or a higher rank. [merge:c-store-outranks-import]
 */
export const SOURCE_RANK: Readonly<Record<RecordSource, number>> = { 'c-store': 1, dicomweb: 0, 'c-find': 0, file: 0 };

/**
 * The precedence of the values of a record: its source's rank, then its
 * receivedAt, as one string (`1:2024-01-15T10:20:00.000Z`) that compares
 * like the pair. A value is replaced by one of a precedence at least its own.
 */
export function precedenceOf(receipt: Pick<ReceiptData, 'source' | 'receivedAt'>): string {
  return `${SOURCE_RANK[receipt.source ?? 'c-store']}:${receipt.receivedAt}`;
}

/** The precedence of values stored before precedences were: C-STORE (the only source then) at their receivedAt. */
export function legacyPrecedence(receivedAt: string): string {
  return `${SOURCE_RANK['c-store']}:${receivedAt}`;
}

/** Attribute name → precedence of its stored value. */
export type Origins = Record<string, string>;

/** Absent, or empty: a value that says nothing (records leave such values out; a stray one is ignored). */
export function isAbsent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isAbsent);
  return false;
}

export interface AttributeMerge<T> {
  /** The merged attributes. */
  value: T;
  /** Precedence of each attribute of `value`. */
  origins: Origins;
  /** Some attribute took another value (canonical JSON compared). */
  changed: boolean;
}

/**
 * Merges the attributes of one level (patient, study, series or instance)
 * of a record into the stored ones, attribute by attribute: a present
 * incoming value replaces the stored one when its precedence is at least the
 * stored value's (a tie goes to the record merged later); an absent one
 * leaves the stored one. An equal value takes the newer precedence without
 * being a change. [merge:latest-present-value-wins] [merge:c-store-outranks-import]
 */
export function mergeAttributes<T extends object>(
  stored: T | undefined,
  storedOrigins: Origins,
  incoming: T,
  precedence: string,
): AttributeMerge<T> {
  const value: Record<string, unknown> = { ...(stored ?? {}) };
  const origins: Origins = {};
  for (const name of Object.keys(value)) origins[name] = storedOrigins[name] ?? '';
  let changed = stored === undefined;
  for (const [name, incomingValue] of Object.entries(incoming)) {
    if (isAbsent(incomingValue)) continue;
    const known = origins[name];
    if (known !== undefined && precedence < known) continue;
    if (known === undefined || canonicalJson(value[name]) !== canonicalJson(incomingValue)) changed = true;
    value[name] = incomingValue;
    origins[name] = precedence;
  }
  return { value: value as T, origins, changed };
}

/** The precedence every attribute of `value` has when none is recorded (stored before precedences were). */
export function uniformOrigins(value: object, precedence: string): Origins {
  const origins: Origins = {};
  for (const name of Object.keys(value)) origins[name] = precedence;
  return origins;
}

/** A rejection note of a record, with its references grouped by the study they are in. */
export interface RejectionNote {
  reason: RejectionReason;
  kosSopInstanceUid: string;
  receivedAt: string;
  /** Study Instance UID → rejected SOP Instance UIDs (distinct, document order). */
  byStudy: Map<string, string[]>;
}

/**
 * The rejection note a record carries: an IHE IOCM KOS (title 113001, 113037,
 * 113038 or 113039, scheme DCM, see ../dicom/key-object.ts) with its UIDs;
 * undefined for any other record. A KOS can reference several studies, so
 * references are grouped by study (each is applied to its own study).
 */
export function rejectionNoteOf(record: InstanceRecord): RejectionNote | undefined {
  const doc = record.keyObject;
  const kosSopInstanceUid = record.instance?.sopInstanceUid;
  if (!doc?.isRejection || doc.rejectionReason === undefined || !kosSopInstanceUid) return undefined;
  const byStudy = new Map<string, string[]>();
  for (const ref of doc.references) {
    if (!ref.studyInstanceUid || !ref.sopInstanceUid) continue;
    const list = byStudy.get(ref.studyInstanceUid) ?? [];
    if (!list.includes(ref.sopInstanceUid)) list.push(ref.sopInstanceUid);
    byStudy.set(ref.studyInstanceUid, list);
  }
  return { reason: doc.rejectionReason, kosSopInstanceUid, receivedAt: record.receipt.receivedAt, byStudy };
}

/** Stored form of a rejection: `receivedAt \t reason \t kosSopInstanceUid` (no field holds a tab). */
export function encodeRejection(receivedAt: string, rejection: Rejection): string {
  return `${receivedAt}\t${rejection.reason}\t${rejection.kosSopInstanceUid}`;
}

export function decodeRejection(value: string | null | undefined): (Rejection & { receivedAt: string }) | undefined {
  if (!value) return undefined;
  const [receivedAt, reason, kosSopInstanceUid] = value.split('\t');
  if (!receivedAt || !reason || !kosSopInstanceUid) return undefined;
  return { receivedAt, reason: reason as RejectionReason, kosSopInstanceUid };
}

/** The kept KOS documents in the order of the assembled series and instances. */
export function keyObjectEntries(series: SeriesState[], documents: Map<string, KeyObjectDocument>): KeyObjectEntry[] {
  const out: KeyObjectEntry[] = [];
  if (documents.size === 0) return out;
  for (const s of series) {
    for (const i of s.instances) {
      const document = documents.get(i.sopInstanceUid);
      if (document) {
        out.push({ sopInstanceUid: i.sopInstanceUid, seriesInstanceUid: s.attributes.seriesInstanceUid, sopClassUid: i.sopClassUid, document });
      }
    }
  }
  return out;
}
