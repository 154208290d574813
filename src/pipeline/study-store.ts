import type { PersonName } from '../dicom/attribute-values.js';
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

  // ---- the admin console (types at the end of this file, helpers in study-search.ts) ----
  /** One page of the studies that match `search` (StudyPage: its order, its total), from indexes, not a scan. */
  searchSummaries(search: StudySearch, page: PageRequest): Promise<StudyPage>;
  /** Adds an attempt to the study's publish history, which keeps the newest PUBLISH_HISTORY_LIMIT. */
  recordPublishAttempt(studyInstanceUid: string, attempt: PublishAttempt): Promise<void>;
  /** The study's publish history, newest first ([] for an unknown study). */
  publishHistory(studyInstanceUid: string): Promise<PublishAttempt[]>;
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

// ---- the admin console: search and publish history ---------------------------------

/** Every member given must match (AND); absent members do not filter. Exact matches, case as stored. */
export interface StudySearch {
  studyInstanceUid?: string;
  /** (0008,0050) */
  accessionNumber?: string;
  /** (0010,0020) */
  patientId?: string;
  state?: PublishState;
  /** (0008,0020) Study Date from, DICOM DA (YYYYMMDD), inclusive. Studies without a valid date do not match a date range. */
  studyDateFrom?: string;
  /** Study Date to, DICOM DA (YYYYMMDD), inclusive. */
  studyDateTo?: string;
  /** The study's last instance received at or after this time (ISO 8601 UTC with milliseconds, as lastReceivedAt). */
  receivedFrom?: string;
  /** The study's last instance received before this time (exclusive; same form). */
  receivedBefore?: string;
}

export interface PageRequest {
  /** Studies skipped (0: the first page). */
  offset: number;
  /** Studies on the page. */
  limit: number;
}

/** A study as the console lists it: its summary and what identifies it to a person (patient data). */
export interface StudyListing extends StudySummary {
  patientId?: string;
  patientName?: PersonName;
  accessionNumber?: string;
  /** DICOM DA as received. */
  studyDate?: string;
  studyDescription?: string;
  /** Distinct (0008,0060) of its series, sorted. */
  modalities: string[];
  /** Calling AE title of the latest received instance. */
  callingAeTitle?: string;
}

/**
 * One page of a search: newest first (by the last received instance), ties
 * by Study Instance UID descending; `total` is the number of studies that
 * match. Listings leave out lastResource.
 */
export interface StudyPage {
  total: number;
  studies: StudyListing[];
}

/** What one publish attempt came to, as the publish history keeps it. */
export interface PublishAttempt {
  /** ISO time the attempt finished. */
  at: string;
  /**
   * published: written to the FHIR server; unchanged: the server had it already;
   * stored: no FHIR server, kept in the store and the built-in endpoint;
   * retry: left pending, the queue retries; failed: waits for a republish.
   */
  outcome: 'published' | 'unchanged' | 'stored' | 'retry' | 'failed';
  /** HTTP status of the FHIR server's answer, when there was one. */
  httpStatus?: number;
  /** The error (the server's OperationOutcome text when it sent one): may quote patient data. */
  error?: string;
  durationMs?: number;
}

/** Attempts kept per study (the newest). */
export const PUBLISH_HISTORY_LIMIT = 20;
