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

/**
 * Per-study state. Merges are idempotent: keyed by SOP Instance UID, latest
 * received study and series attributes win. Implementations: SQLite, Redis.
 *
 * IHE IOCM rejection notes (a record whose `keyObject.isRejection`): the
 * note is kept on its own (auditable), not as an instance; each referenced
 * instance is remembered as rejected per (Study, SOP Instance UID) with the
 * reason and the note's UID, and leaves its study (an emptied series goes
 * too). A rejected instance merged later, before or after the note, is
 * skipped: the order of arrival does not matter. A study that had nothing
 * but rejected instances is not created. When two notes reject the same
 * instance the latest received is remembered.
 */
export interface StudyStore {
  /**
   * Merge records into their studies; marks each touched study pending.
   * Returns the Study Instance UIDs that changed, including those changed by
   * a rejection note (instances removed, or a new latest rejection), plus
   * touched studies still pending.
   */
  mergeInstances(records: InstanceRecord[]): Promise<string[]>;
  /** The rejection of one instance of a study, if a rejection note rejected it. */
  rejectionOf(studyInstanceUid: string, sopInstanceUid: string): Promise<Rejection | undefined>;
  getStudy(studyInstanceUid: string): Promise<StudyState | undefined>;
  getSummary(studyInstanceUid: string): Promise<StudySummary | undefined>;
  /** Newest first (by last received instance), or oldest first. */
  listSummaries(filter?: SummaryFilter): Promise<StudySummary[]>;
  /** Record the outcome of a publish attempt. */
  setPublishStatus(studyInstanceUid: string, status: Partial<PublishStatus> & { state: PublishState }): Promise<void>;
  countByState(): Promise<Record<PublishState, number>>;
  close(): Promise<void>;
}
