import type { Logger } from 'pino';
import type { DatabaseTarget, DatabaseWorkerSettings } from './database-protocol.js';
import { StorageStalledError } from './storage-health.js';
import { WorkerClient } from './worker-client.js';
import { workerScript } from './worker-script.js';

export interface DatabaseClientOptions {
  dataDir: string;
  /**
   * STORAGE_COMMIT_TIMEOUT_MS: a call with a timeout is answered StorageStalledError after this
   * long, and the worker counts as stalled when no call has returned for this long while one is outstanding.
   */
  stallTimeoutMs: number;
  logger: Logger;
  /** RETENTION_BATCH_SIZE (retention.ts); default 100. */
  retentionBatchSize?: number;
}

/**
 * The event loop's side of the database worker (database-worker.ts), which
 * holds `bridge.sqlite`: a WorkerClient (worker-client.ts) whose calls that
 * are not answered in time, or are refused while it is stalled, fail with
 * StorageStalledError (A700H at the SCP).
 */
export class DatabaseClient extends WorkerClient<DatabaseTarget> {
  constructor(options: DatabaseClientOptions) {
    const settings: DatabaseWorkerSettings = {
      dataDir: options.dataDir,
      ...(options.retentionBatchSize !== undefined ? { retentionBatchSize: options.retentionBatchSize } : {}),
    };
    super({
      name: 'the database worker',
      script: workerScript(import.meta.url, 'database-worker'),
      settings,
      stallTimeoutMs: options.stallTimeoutMs,
      stalledError: () => new StorageStalledError(options.stallTimeoutMs),
      logger: options.logger,
    });
  }
}
