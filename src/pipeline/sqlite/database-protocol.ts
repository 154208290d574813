/** What the database worker (database-worker.ts) hosts and is started with (database-client.ts). */

/** The objects the worker hosts: the study store, the job queue's tables, import checkpoints, the console search, retention. */
export type DatabaseTarget = 'store' | 'queue' | 'checkpoints' | 'search' | 'retention';

export interface DatabaseWorkerSettings {
  dataDir: string;
  /** RETENTION_BATCH_SIZE: the retention transactions' size (retention.ts). Default 100. */
  retentionBatchSize?: number;
}
