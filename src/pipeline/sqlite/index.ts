import type { Logger } from 'pino';
import type { Pipeline } from '../pipeline.js';
import { lockDataDir } from './data-dir-lock.js';
import { openDatabase, type SqliteSynchronous } from './database.js';
import { SqliteJobQueue, type SqliteJobQueueOptions } from './job-queue.js';
import { SqliteStudyStore } from './study-store.js';
import { sqliteImportCheckpoints } from './import-checkpoints.js';
import { SqliteRetention, type SqliteRetentionOptions } from './retention.js';
import type { ImportCheckpoints } from '../import-checkpoints.js';

export { SCHEMA_VERSION, type SqliteSynchronous } from './database.js';
export { DataDirError, lockDataDir, prepareDataDir, type DataDirLock } from './data-dir-lock.js';
export { SqliteJobQueue, type GroupCommitStats, type PublishRow, type SqliteJobQueueOptions } from './job-queue.js';
export { SqliteStudyStore } from './study-store.js';
export { SqliteRetention, compactResource, type RetentionResult } from './retention.js';

export interface SqlitePipelineOptions {
  /** Directory of `bridge.sqlite` (created if missing). */
  dataDir: string;
  /**
   * Durability of an acknowledged C-STORE: FULL (default) fsyncs the commits
   * that acknowledge instances, so they survive power loss; NORMAL survives
   * a process crash (kill -9) but not power loss. Other commits run NORMAL.
   */
  synchronous?: SqliteSynchronous;
  /** Clock of publish due times (ms since the epoch). Default Date.now. */
  now?: () => number;
  logger: Logger;
  /** Tuning of the queue (batch size, poll interval, publish concurrency); defaults documented there. */
  queue?: Pick<
    SqliteJobQueueOptions,
    'batchSize' | 'pollIntervalMs' | 'instanceRetryDelayMs' | 'publishConcurrency' | 'gatherMs' | 'storageProbeDelayMs' | 'storageLogIntervalMs'
  >;
  /** Retention of published studies (retention.ts); absent: nothing is purged. */
  retention?: Pick<SqliteRetentionOptions, 'publishedDays' | 'intervalMs' | 'batchSize'>;
}

/** The embedded queue and store with their SQLite specifics (group-commit stats, publish rows): for tests and tools. */
export interface SqliteParts {
  queue: SqliteJobQueue;
  store: SqliteStudyStore;
  checkpoints: ImportCheckpoints;
  /** Present when options.retention is: started, stopped by close(). */
  retention: SqliteRetention | undefined;
  /** Closes the queue (waiting for running handlers), the store and the database. */
  close(): Promise<void>;
}

/**
 * The embedded pipeline: job queue and study store in one SQLite database,
 * `<dataDir>/bridge.sqlite`, in WAL mode. The database closes once both the
 * queue and the store are closed; isHealthy() is true until then, while
 * writes work (storage(): failing while the disk refuses them).
 */
export function openSqlitePipeline(options: SqlitePipelineOptions): Pipeline {
  const parts = openSqliteParts(options);
  let open = true;
  return {
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
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(options.dataDir, 'NORMAL');
  } catch (err) {
    lock.release();
    throw err;
  }
  let users = 2;
  const release = (): void => {
    users--;
    if (users === 0) {
      db.close();
      lock.release();
    }
  };
  const logger = options.logger;
  const queue = new SqliteJobQueue({
    ...options.queue,
    db,
    logger,
    now: options.now,
    onClose: release,
    durableIntake: (options.synchronous ?? 'FULL') === 'FULL',
  });
  const store = new SqliteStudyStore({ db, logger, onClose: release });
  const retention = options.retention && new SqliteRetention({ ...options.retention, db, logger, now: options.now });
  retention?.start();
  return {
    queue,
    store,
    checkpoints: sqliteImportCheckpoints(db),
    retention,
    async close() {
      await retention?.close();
      await queue.close();
      await store.close();
    },
  };
}
