/**
 * Pure helpers of the study merge: change detection by canonical JSON and the
 * "latest received wins" rule, rejection notes. No I/O; shared by the SQLite
 * and Redis stores.
 */
import type { InstanceRecord } from '../dicom/instance-record.js';
import type { KeyObjectDocument, RejectionReason } from '../dicom/key-object-document.js';
import type { KeyObjectEntry, Rejection, SeriesState } from '../dicom/study-state.js';

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
 * record merged later, which is the one queued later.
 */
export function isLatest(incoming: string, stored: string | undefined): boolean {
  return stored === undefined || incoming >= stored;
}

/** Default publish retry delay: 1 s · 2^(attempt-1), capped at 5 min, ±20 % jitter. */
export function defaultRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.max(0, attempt - 1), 300_000);
  return Math.round(base * (0.8 + 0.4 * random()));
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
