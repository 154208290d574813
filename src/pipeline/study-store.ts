import type { InstanceRecord } from '../dicom/instance-record.js';
import type { Rejection, StudyState } from '../dicom/study-state.js';

export type PublishState = 'pending' | 'published' | 'failed';

/** Where a study stands with the FHIR server. */
export interface PublishStatus {
  state: PublishState;
  /** Number of publish attempts since the study last changed. */
  attempts: number;
  lastError?: string;
  /** Information that is not an error, e.g. that no FHIR server is configured. */
  note?: string;
  /** ISO time of the last successful publish. */
  publishedAt?: string;
  /** The last generated resource (ImagingStudy, or a transaction Bundle). */
  lastResource?: unknown;
  /** Server-assigned id of the ImagingStudy, once known. */
  resourceId?: string;
}

export interface StudySummary {
  studyInstanceUid: string;
  numberOfSeries: number;
  numberOfInstances: number;
  firstReceivedAt: string;
  lastReceivedAt: string;
  publish: PublishStatus;
}

export interface SummaryFilter {
  state?: PublishState;
  limit?: number;
  /** Oldest (least recently received) first; default newest first. */
  oldestFirst?: boolean;
}

/** What beginPublish loads and marks: everything one publish attempt needs. */
export interface PublishStart {
  /** The study as merged so far. */
  state: StudyState;
  /**
   * Its publish status as this attempt starts: pending, `attempts` counting
   * this one; `resourceId` and `lastResource` of the last publish (the
   * ImagingStudy writer keeps what others wrote by them).
   */
  status: PublishStatus;
  /** The study's generation now; finishPublish compares it (see StudyStore). */
  generation: number;
}

/** The outcome of one publish attempt, as finishPublish records it. */
export type PublishFinish =
  | {
      state: 'published';
      /** ISO time of the publish. */
      publishedAt: string;
      /** The resource generated (and, with a server, written). */
      lastResource: unknown;
      /** Server-assigned id of the ImagingStudy, when the server told it. */
      resourceId?: string;
      /** Information that is not an error; absent clears the previous one. */
      note?: string;
    }
  | {
      /** 'pending': the queue retries the publish; 'failed': it waits for a republish. */
      state: 'pending' | 'failed';
      lastError: string;
      /** The resource generated before the attempt failed, if it got that far. */
      lastResource?: unknown;
    };

/**
 * Per-study state. Merges are idempotent: keyed by SOP Instance UID, latest
 * received study and series attributes win; every rule is in MERGE_RULES
 * (merge.ts). Implementations: SQLite, Redis.
 *
 * IHE IOCM rejection notes (a record whose `keyObject.isRejection`): the
 * note is kept on its own (auditable), not as an instance; each referenced
 * instance is remembered as rejected per (Study, SOP Instance UID) with the
 * reason and the note's UID, and leaves its study (an emptied series goes
 * too). A rejected instance merged later, before or after the note, is
 * skipped: the order of arrival does not matter. A study that had nothing
 * but rejected instances is not created. When two notes reject the same
 * instance the latest received is remembered.
 *
 * Publish protocol: a publish attempt is `beginPublish` (one call that loads
 * the state and the last publish, counts the attempt and marks the study
 * pending), the mapping and the writes, then `finishPublish` with the
 * generation begun with. Every merge that changes the study, and every
 * republish, bumps its generation; a finish whose generation is no longer
 * the study's records what the attempt learned (resource id, resource,
 * error) but leaves the study pending with its attempts as the change set
 * them: the change's own publish is scheduled and will publish it.
 */
export interface StudyStore {
  /**
   * Merge records into their studies; marks each changed study pending
   * (attempts 0, generation bumped). Returns the Study Instance UIDs that
   * changed, including those changed by a rejection note (instances
   * removed, or a new latest rejection), plus touched studies still pending.
   */
  mergeInstances(records: InstanceRecord[]): Promise<string[]>;
  /** The rejection of one instance of a study, if a rejection note rejected it. */
  rejectionOf(studyInstanceUid: string, sopInstanceUid: string): Promise<Rejection | undefined>;
  getStudy(studyInstanceUid: string): Promise<StudyState | undefined>;
  getSummary(studyInstanceUid: string): Promise<StudySummary | undefined>;
  /** Newest first (by last received instance), or oldest first. */
  listSummaries(filter?: SummaryFilter): Promise<StudySummary[]>;
  /**
   * Starts a publish attempt, atomically: loads the study and its publish
   * status, counts the attempt (attempts + 1) and marks the study pending.
   * Undefined (and nothing written) when the study is not in the store.
   */
  beginPublish(studyInstanceUid: string): Promise<PublishStart | undefined>;
  /**
   * Records the outcome of the attempt begun at `generation` (members as
   * finishedStatus gives them: a publish clears lastError, sets or clears
   * the note, keeps the resourceId when it has none; a failure keeps the
   * last resource when it has none), and the study takes the outcome's
   * state; unless the study changed meanwhile (its generation moved on),
   * then it stays pending. Attempts are left as they are. Returns the state
   * the study is left in; undefined for a study not in the store (left alone).
   */
  finishPublish(studyInstanceUid: string, generation: number, outcome: PublishFinish): Promise<PublishState | undefined>;
  /**
   * Starts the study's publishing over (admin republish): pending, attempts
   * 0, last error cleared, generation bumped (a publish running now finishes
   * pending). Returns the state it was in; undefined for an unknown study.
   * The caller schedules the publish.
   */
  republish(studyInstanceUid: string): Promise<PublishState | undefined>;
  /**
   * Sets the publish status as given, without the protocol: no generation
   * check or bump (tools and tests; the publisher uses begin/finish). A
   * member present with the value undefined clears it. A study that is not
   * in the store is left alone.
   */
  setPublishStatus(studyInstanceUid: string, status: Partial<PublishStatus> & { state: PublishState }): Promise<void>;
  countByState(): Promise<Record<PublishState, number>>;
  close(): Promise<void>;
}

/**
 * The publish status members finishPublish sets, in setPublishStatus's form
 * (a member present with the value undefined is cleared, an absent one kept).
 */
export function finishedStatus(outcome: PublishFinish): Partial<PublishStatus> {
  if (outcome.state === 'published') {
    return {
      publishedAt: outcome.publishedAt,
      lastResource: outcome.lastResource,
      lastError: undefined,
      note: outcome.note,
      ...(outcome.resourceId !== undefined ? { resourceId: outcome.resourceId } : {}),
    };
  }
  return { lastError: outcome.lastError, ...(outcome.lastResource !== undefined ? { lastResource: outcome.lastResource } : {}) };
}
