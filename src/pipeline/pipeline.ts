import type { ImportCheckpoints } from './import-checkpoints.js';
import type { JobQueue } from './job-queue.js';
import type { StudyStore } from './study-store.js';

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
  /** False while the store is unreachable (readiness): Redis down, or the embedded pipeline closed. */
  isHealthy(): boolean;
}
