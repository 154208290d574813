/**
 * The database worker thread: the one connection to `bridge.sqlite`
 * (exclusive locking, database.ts) and everything that runs statements on
 * it: the study store, the job queue's tables, import checkpoints, retention. A write
 * the disk does not answer (frozen, stalled) blocks this thread, not the
 * event loop: health, C-ECHO and the refusal of C-STOREs go on
 * (database-client.ts). Calls run one at a time, in the order sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from 'pino';
import { openDatabase } from './database.js';
import { serializeError, toCloneableFields, type DatabaseTarget, type FromWorker, type ToWorker, type WorkerSettings } from './database-protocol.js';
import { sqliteImportCheckpoints } from './import-checkpoints.js';
import { SqliteQueueTables } from './queue-tables.js';
import { RetentionBatches } from './retention.js';
import { SqliteStudyStore } from './study-store.js';

const port = parentPort!;
const post = (message: FromWorker): void => port.postMessage(message);

/** The pino calls the hosted objects make, forwarded to the main thread's logger. */
function forwardingLogger(): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (fieldsOrMsg: Record<string, unknown> | string, msg?: string): void => {
      if (typeof fieldsOrMsg === 'string') post({ kind: 'log', level, fields: {}, msg: fieldsOrMsg });
      else post({ kind: 'log', level, fields: toCloneableFields(fieldsOrMsg), msg: msg ?? '' });
    };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('error'), trace: () => {} };
  return { ...logger, child: () => logger } as unknown as Logger;
}

function start(settings: WorkerSettings): void {
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(settings.dataDir, 'NORMAL');
  } catch (err) {
    post({ kind: 'openFailed', error: serializeError(err) });
    return;
  }
  const store = new SqliteStudyStore({ db, logger: forwardingLogger() });
  const targets: Record<DatabaseTarget, object> = {
    store,
    queue: new SqliteQueueTables(db),
    checkpoints: sqliteImportCheckpoints(db),
    search: store.console,
    retention: new RetentionBatches(db, settings.retentionBatchSize ?? 100),
  };
  port.on('message', (message: ToWorker) => {
    if (message.kind === 'close') {
      db.close();
      post({ kind: 'closed' });
      port.close();
      return;
    }
    const { id, target, method, args, deadline } = message;
    // Its caller was answered (A700H) long ago: not begun, so not stored either.
    if (deadline !== undefined && Date.now() > deadline) {
      post({ kind: 'expired', id });
      return;
    }
    try {
      const object = targets[target] as Record<string, (...a: unknown[]) => unknown>;
      const fn = object[method];
      if (typeof fn !== 'function') throw new Error(`database worker: no method ${target}.${method}`);
      const value = fn.apply(object, args);
      // The hosted async methods run their statements synchronously: settled before the next message.
      if (value instanceof Promise) {
        value.then(
          (v) => post({ kind: 'result', id, value: v }),
          (err: unknown) => post({ kind: 'error', id, error: serializeError(err) }),
        );
      } else post({ kind: 'result', id, value });
    } catch (err) {
      post({ kind: 'error', id, error: serializeError(err) });
    }
  });
  post({ kind: 'ready' });
}

start(workerData as WorkerSettings);
