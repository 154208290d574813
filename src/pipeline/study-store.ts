import type { InstanceRecord } from '../dicom/instance-record.js';
import type { PublishState, StudyState } from './study-state.js';

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
 */
export interface StudyStore {
  /**
   * Merge records into their studies; marks each touched study pending.
   * Returns the Study Instance UIDs that changed.
   */
  mergeInstances(records: InstanceRecord[]): Promise<string[]>;
  getStudy(studyInstanceUid: string): Promise<StudyState | undefined>;
  getSummary(studyInstanceUid: string): Promise<StudySummary | undefined>;
  /** Newest first (by last received instance), or oldest first. */
  listSummaries(filter?: SummaryFilter): Promise<StudySummary[]>;
  /** Record the outcome of a publish attempt. */
  setPublishStatus(studyInstanceUid: string, status: Partial<PublishStatus> & { state: PublishState }): Promise<void>;
  countByState(): Promise<Record<PublishState, number>>;
  close(): Promise<void>;
}
