import type { InstanceRecord } from '../../dicom/instance-record.js';
import type { Rejection, StudyState } from '../../dicom/study-state.js';
import { rejectionNoteOf } from '../merge.js';
import type {
  PageRequest,
  PublishAttempt,
  PublishFinish,
  PublishStart,
  PublishState,
  PublishStatus,
  StudyPage,
  StudySearch,
  StudyStore,
  StudySummary,
  SummaryFilter,
} from '../study-store.js';
import type { DatabaseClient } from './database-client.js';

export interface RemoteStudyStoreOptions {
  database: DatabaseClient;
  /** STORAGE_COMMIT_TIMEOUT_MS: how long the C-STORE path's rejection check waits. */
  commitTimeoutMs: number;
  /** Called once, on close(). */
  onClose?: () => void;
}

/**
 * The StudyStore of the embedded mode on the event loop: every method is
 * SqliteStudyStore's (study-store.ts), run in the database worker. One
 * thing is kept here: which studies have rejected instances, so the
 * rejection check of each C-STORE (rejectionOf) needs no round trip for
 * the others, as SqliteStudyStore itself does.
 */
export class RemoteStudyStore implements StudyStore {
  private readonly db: DatabaseClient;
  private readonly commitTimeoutMs: number;
  private readonly onClose: (() => void) | undefined;
  private closed = false;
  /** Undefined until loaded from the worker; then a superset (notes added before their merge commits). */
  private rejected: Set<string> | undefined;

  constructor(options: RemoteStudyStoreOptions) {
    this.db = options.database;
    this.commitTimeoutMs = options.commitTimeoutMs;
    this.onClose = options.onClose;
    this.db.call<string[]>('store', 'rejectedStudies').then(
      (uids) => {
        const set = new Set(uids);
        for (const uid of this.rejected ?? []) set.add(uid);
        this.rejected = set;
      },
      () => {
        // Not loaded: every rejection check asks the worker.
      },
    );
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.db.call<T>('store', method, args);
  }

  async mergeInstances(records: InstanceRecord[]): Promise<string[]> {
    for (const record of records) {
      const note = rejectionNoteOf(record);
      if (note === undefined || this.rejected === undefined) continue;
      for (const uid of note.byStudy.keys()) this.rejected.add(uid);
    }
    return this.call('mergeInstances', records);
  }

  async rejectionOf(studyInstanceUid: string, sopInstanceUid: string): Promise<Rejection | undefined> {
    if (this.rejected !== undefined && !this.rejected.has(studyInstanceUid)) return undefined;
    return this.db.call('store', 'rejectionOf', [studyInstanceUid, sopInstanceUid], { timeoutMs: this.commitTimeoutMs });
  }

  getStudy(studyInstanceUid: string): Promise<StudyState | undefined> {
    return this.call('getStudy', studyInstanceUid);
  }

  getSummary(studyInstanceUid: string): Promise<StudySummary | undefined> {
    return this.call('getSummary', studyInstanceUid);
  }

  listSummaries(filter?: SummaryFilter): Promise<StudySummary[]> {
    return this.call('listSummaries', filter);
  }

  beginPublish(studyInstanceUid: string): Promise<PublishStart | undefined> {
    return this.call('beginPublish', studyInstanceUid);
  }

  finishPublish(studyInstanceUid: string, generation: number, outcome: PublishFinish): Promise<PublishState | undefined> {
    return this.call('finishPublish', studyInstanceUid, generation, outcome);
  }

  republish(studyInstanceUid: string): Promise<PublishState | undefined> {
    return this.call('republish', studyInstanceUid);
  }

  setPublishStatus(studyInstanceUid: string, status: Partial<PublishStatus> & { state: PublishState }): Promise<void> {
    return this.call('setPublishStatus', studyInstanceUid, status);
  }

  countByState(): Promise<Record<PublishState, number>> {
    return this.call('countByState');
  }

  searchSummaries(search: StudySearch, page: PageRequest): Promise<StudyPage> {
    return this.call('searchSummaries', search, page);
  }

  recordPublishAttempt(studyInstanceUid: string, attempt: PublishAttempt): Promise<void> {
    return this.call('recordPublishAttempt', studyInstanceUid, attempt);
  }

  publishHistory(studyInstanceUid: string): Promise<PublishAttempt[]> {
    return this.call('publishHistory', studyInstanceUid);
  }

  /** The console search's query plan (tests: the indexes are used). */
  searchPlan(search: StudySearch): Promise<string[]> {
    return this.db.call('search', 'plan', [search]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
  }
}
