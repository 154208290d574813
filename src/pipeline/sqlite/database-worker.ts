/**
 * The database worker thread: the one connection to `bridge.sqlite`
 * (exclusive locking, database.ts) and everything that runs statements on
 * it: the study store, the job queue's tables, import checkpoints, retention. A write
 * the disk does not answer (frozen, stalled) blocks this thread, not the
 * event loop: health, C-ECHO and the refusal of C-STOREs go on
 * (database-client.ts). Calls run one at a time, in the order sent (worker-host.ts).
 */
import { openDatabase } from './database.js';
import type { DatabaseTarget, DatabaseWorkerSettings } from './database-protocol.js';
import { sqliteImportCheckpoints } from './import-checkpoints.js';
import { SqliteQueueTables } from './queue-tables.js';
import { RetentionBatches } from './retention.js';
import { SqliteStudyStore } from './study-store.js';
import { hostObjects } from './worker-host.js';

hostObjects<DatabaseWorkerSettings>('database worker', (settings, logger) => {
  const db = openDatabase(settings.dataDir, 'NORMAL');
  const store = new SqliteStudyStore({ db, logger });
  const targets: Record<DatabaseTarget, object> = {
    store,
    queue: new SqliteQueueTables(db),
    checkpoints: sqliteImportCheckpoints(db),
    search: store.console,
    retention: new RetentionBatches(db, settings.retentionBatchSize ?? 100),
  };
  return {
    targets,
    close: () => {
      db.close();
    },
  };
});
