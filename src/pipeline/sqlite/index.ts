import type { Logger } from 'pino';
import type { Pipeline } from '../pipeline.js';
import { lockDataDir } from './data-dir-lock.js';
import { openDatabase, type SqliteSynchronous } from './database.js';
import { DatabaseClient } from './database-client.js';
import { SqliteJobQueue, type SqliteJobQueueOptions } from './job-queue.js';
import { RemoteStudyStore } from './remote-study-store.js';
import { SqliteRetention, type SqliteRetentionOptions } from './retention.js';
import type { ImportCheckpoints } from '../import-checkpoints.js';

export { SCHEMA_VERSION, type SqliteSynchronous } from './database.js';
export { DataDirError, lockDataDir, prepareDataDir, type DataDirLock } from './data-dir-lock.js';
export { SqliteJobQueue, type GroupCommitStats, type PublishRow, type SqliteJobQueueOptions } from './job-queue.js';
export { SqliteStudyStore } from './study-store.js';
export { RemoteStudyStore } from './remote-study-store.js';
export { SqliteRetention, RetentionBatches, compactResource, type RetentionResult } from './retention.js';

export interface SqlitePipelineOptions {
  /** Directory of `bridge.sqlite` (created if missing). */
  dataDir: string;
  /**
   * Durability of an acknowledged C-STORE: FULL (default) fsyncs the commits
   * that acknowledge instances, so they survive power loss; NORMAL survives
   * a process crash (kill -9) but not power loss. Other commits run NORMAL.
   */
  synchronous?: SqliteSynchronous;
  /**
   * STORAGE_COMMIT_TIMEOUT_MS: how long a C-STORE waits for its record's
   * commit before it is refused (A700H), and how long a database call may
   * go unanswered before the storage counts as stalled. Default 10 s.
   */
  commitTimeoutMs?: number;
  /** Clock of publish due times (ms since the epoch). Default Date.now. */
  now?: () => number;
  logger: Logger;
  /** Tuning of the queue (batch size, poll interval, publish concurrency); defaults documented there. */
  queue?: Pick<
    SqliteJobQueueOptions,
    'batchSize' | 'pollIntervalMs' | 'instanceRetryDelayMs' | 'publishConcurrency' | 'gatherMs' | 'storageProbeDelayMs' | 'storageLogIntervalMs'
  >;
  /** Retention of published studies (retention.ts); absent: nothing is purged. */
  retention?: Pick<SqliteRetentionOptions, 'publishedDays' | 'intervalMs'> & { batchSize?: number };
}

/** The embedded queue and store with their SQLite specifics (group-commit stats, publish rows): for tests and tools. */
export interface SqliteParts {
  queue: SqliteJobQueue;
  store: RemoteStudyStore;
  checkpoints: ImportCheckpoints;
  /** Present when options.retention is: started, stopped by close(). */
  retention: SqliteRetention | undefined;
  /** Resolves when the database worker has the database open (calls made before wait for it). */
  ready: Promise<void>;
  /** Closes the queue (waiting for running handlers), the store and the database. */
  close(): Promise<void>;
}

/**
 * The embedded pipeline: job queue and study store in one SQLite database,
 * `<dataDir>/bridge.sqlite`, in WAL mode, run by a worker thread
 * (database-worker.ts) so that no statement blocks the event loop. The
 * database closes once both the queue and the store are closed; isHealthy()
 * is true until then, while writes work (storage(): failing while the disk
 * refuses them, stalled while it does not answer).
 */
export function openSqlitePipeline(options: SqlitePipelineOptions): Pipeline & { ready: Promise<void> } {
  const parts = openSqliteParts(options);
  let open = true;
  return {
    ready: parts.ready,
    queue: parts.queue,
    store: parts.store,
    checkpoints: parts.checkpoints,
    isHealthy: () => open && parts.queue.storageCondition().state === 'ok',
    storage: () => parts.queue.storageCondition(),
    close: async () => {
      open = false;
      await parts.close();
    },
  };
}

/** openSqlitePipeline with the SQLite classes themselves. */
export function openSqliteParts(options: SqlitePipelineOptions): SqliteParts {
  // One bridge per DATA_DIR (data-dir-lock.ts): checked and locked before the database opens.
  const lock = lockDataDir(options.dataDir);
  try {
    // Opened (created, migrated) and closed here, so that a database this bridge cannot use fails the open at once.
    openDatabase(options.dataDir, 'NORMAL').close();
  } catch (err) {
    lock.release();
    throw err;
  }
  const logger = options.logger;
  const commitTimeoutMs = options.commitTimeoutMs ?? 10_000;
  const database = new DatabaseClient({
    dataDir: options.dataDir,
    stallTimeoutMs: commitTimeoutMs,
    logger,
    ...(options.retention?.batchSize !== undefined ? { retentionBatchSize: options.retention.batchSize } : {}),
  });
  let users = 2;
  let closed: Promise<void> | undefined;
  const release = (): void => {
    users--;
    if (users === 0) closed = database.close().finally(() => lock.release());
  };
  const queue = new SqliteJobQueue({
    ...options.queue,
    database,
    commitTimeoutMs,
    logger,
    now: options.now,
    onClose: release,
    durableIntake: (options.synchronous ?? 'FULL') === 'FULL',
  });
  const store = new RemoteStudyStore({ database, commitTimeoutMs, onClose: release });
  const retention =
    options.retention &&
    new SqliteRetention({
      ...options.retention,
      runBatch: (cutoff, retainedAt) => database.call('retention', 'runBatch', [cutoff, retainedAt]),
      logger,
      now: options.now,
    });
  retention?.start();
  const call =
    (method: keyof ImportCheckpoints) =>
    (...args: unknown[]): Promise<never> =>
      database.call('checkpoints', method, args);
  return {
    queue,
    store,
    checkpoints: { done: call('done'), mark: call('mark'), clear: call('clear') },
    retention,
    ready: database.ready,
    async close() {
      await retention?.close();
      await queue.close();
      await store.close();
      await closed;
    },
  };
}
