import type { ImportCheckpoints } from './import-checkpoints.js';
import type { JobQueue } from './job-queue.js';
import type { StudyStore } from './study-store.js';

/** Whether the embedded store's writes work (readiness, /status); no patient data. */
export interface StorageCondition {
  /**
   * failing: writes fail (disk full, write permission lost, I/O error); probed with backoff until one succeeds.
   * stalled: a database call has not returned for STORAGE_COMMIT_TIMEOUT_MS (the disk does not answer, e.g.
   * frozen); ok again when it returns.
   */
  state: 'ok' | 'failing' | 'stalled';
  /** ISO time the failures began. */
  since?: string;
  /** Why, e.g. `SQLITE_FULL: database or disk is full`. */
  reason?: string;
}

/**
 * The intake of one mode: the job queue and the study store, embedded
 * (SQLite, sqlite/) or distributed (BullMQ and Redis, redis/).
 */
export interface Pipeline {
  queue: JobQueue;
  store: StudyStore;
  /** Checkpoints of import runs, in the same store. */
  checkpoints: ImportCheckpoints;
  /** Closes the queue (waiting for running handlers), the store and what they share (database, connections). */
  close(): Promise<void>;
  /** False while the store is unreachable (readiness): Redis down, the embedded store failing to write, or closed. */
  isHealthy(): boolean;
  /** The embedded store's condition (absent in distributed mode). */
  storage?(): StorageCondition;
}
