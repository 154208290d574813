/**
 * Redis key names of the distributed mode. Every key of one study carries the
 * Study Instance UID as its hash tag (`{…}`), so all of them live in one slot
 * of a Redis Cluster and one Lua script may touch them together. The publish
 * state index is the one cross-study structure; its three sorted sets share
 * the `{index}` tag so they can be moved between atomically.
 */
export const DEFAULT_PREFIX = 'dfb';

export interface StudyKeys {
  /** Hash: patient and study attribute lists (lua/includes/attribute-lists.lua), receipt and its precedence, times, publish status. */
  study: string;
  /** Hash: series UID → attribute list. */
  series: string;
  /** Hash: SOP Instance UID → `precedence \t seriesUid \t attributeList`. */
  instances: string;
  /** Hash: series UID → number of instances (only series with at least one). */
  seriesSizes: string;
  /** String: epoch ms of the first publish request still pending (maxDelayMs cap). */
  publishRequested: string;
}

export function studyKeys(prefix: string, studyInstanceUid: string): StudyKeys {
  const base = `${prefix}:{${studyInstanceUid}}`;
  return {
    study: `${base}:study`,
    series: `${base}:series`,
    instances: `${base}:instances`,
    seriesSizes: `${base}:series-sizes`,
    publishRequested: `${base}:publish-requested`,
  };
}

/**
 * Keys of a study's Key Object Selection Documents and IHE IOCM rejections,
 * in the study's slot (same hash tag as studyKeys). Created only when a KOS
 * or a rejection note concerns the study.
 */
export interface StudyNoteKeys {
  /** Hash: rejected SOP Instance UID → `receivedAt \t reason \t kosSopInstanceUid` (IHE IOCM; kept even before the instance arrives). */
  rejections: string;
  /** String: the latest rejection note that touched the study, `receivedAt \t reason \t kosSopInstanceUid`. */
  studyRejection: string;
  /** Hash: rejection note SOP Instance UID → `receivedAt \t recordJson` (the notes that reference this study; auditable). */
  rejectionNotes: string;
  /** Hash: SOP Instance UID of a non-rejection KOS instance → KeyObjectDocument (canonical JSON). */
  keyObjects: string;
}

export function studyNoteKeys(prefix: string, studyInstanceUid: string): StudyNoteKeys {
  const base = `${prefix}:{${studyInstanceUid}}`;
  return {
    rejections: `${base}:rejections`,
    studyRejection: `${base}:study-rejection`,
    rejectionNotes: `${base}:rejection-notes`,
    keyObjects: `${base}:key-objects`,
  };
}

/** Sorted set per publish state, member Study Instance UID, score lastReceivedAt (epoch ms). */
export function stateIndexKey(prefix: string, state: string): string {
  return `${prefix}:{index}:state:${state}`;
}

/** The pattern that matches every study hash (for a rebuild of the state index). */
export function studyKeyPattern(prefix: string): string {
  return `${prefix}:{*}:study`;
}

/**
 * BullMQ queue names: the name is in braces so each queue's keys share one
 * Cluster slot (BullMQ's own scripts need that), e.g. `dfb:{instances}:wait`.
 */
export const INSTANCES_QUEUE = '{instances}';
export const PUBLISHES_QUEUE = '{publishes}';

/** Hash of the checkpoints of one import run (../import-checkpoints.ts): Study Instance UID → `instances \t doneAt`. */
export function importCheckpointsKey(prefix: string, run: string): string {
  return `${prefix}:{import}:${run}`;
}

/**
 * The admin console's search index (redis/study-search.ts), beside the state
 * index under the `{index}` tag, so that one script reads them all.
 */
export interface SearchIndexKeys {
  /** Hash: Study Instance UID → JSON [accessionNumber, patientId, studyDate] as indexed ('' for none). */
  terms: string;
  /** Sorted set: every study, score lastReceivedAt (epoch ms). */
  received: string;
  /** Sorted set: studies with a valid Study Date, score YYYYMMDD. */
  studyDate: string;
  /** Sorted set, score 0: `accessionNumber \0 studyUid` (ZRANGEBYLEX finds a value's studies). */
  accession: string;
  /** Sorted set, score 0: `patientId \0 studyUid`. */
  patientId: string;
  /** String: set once the index holds every study (built from the study hashes when missing). */
  built: string;
}

export function searchIndexKeys(prefix: string): SearchIndexKeys {
  const base = `${prefix}:{index}:search`;
  return {
    terms: `${base}:terms`,
    received: `${base}:received`,
    studyDate: `${base}:study-date`,
    accession: `${base}:accession`,
    patientId: `${base}:patient-id`,
    built: `${base}:built`,
  };
}

/** List: the study's publish history, newest first, JSON per attempt (in the study's slot). */
export function publishHistoryKey(prefix: string, studyInstanceUid: string): string {
  return `${prefix}:{${studyInstanceUid}}:publish-history`;
}

/**
 * The instances queue: a Redis stream that the receivers append to and the
 * workers read as one consumer group, beside a copy of every rejection (the
 * SCP's rejection check) in the same slot, so that one script checks and
 * queues (instance-stream.ts).
 */
export interface InstanceStreamKeys {
  /** Stream: one entry per queued instance record, field `r` = the record's JSON. */
  records: string;
  /** Hash: `studyUid \t sopUid` → `receivedAt \t reason \t kosSopInstanceUid` (copy of the studies' rejections hashes). */
  rejected: string;
  /** String: set once `rejected` holds the rejections of every study (copied from the study slots when missing). */
  rejectedBuilt: string;
  /**
   * Stream: records that failed too many deliveries (instance-dead-letters.ts), each whole (its field `r`)
   * beside `entry-id`, `reason`, `error`, `deliveries`, `dead-lettered-at`; kept until an operator re-queues or deletes it.
   */
  deadLetters: string;
}

export function instanceStreamKeys(prefix: string): InstanceStreamKeys {
  const base = `${prefix}:{instance-stream}`;
  return {
    records: `${base}:records`,
    rejected: `${base}:rejected`,
    rejectedBuilt: `${base}:rejected-built`,
    deadLetters: `${base}:dead-letters`,
  };
}

/** Consumer group of the workers on the instances stream. */
export const INSTANCE_STREAM_GROUP = 'merge';
