/**
 * The worker side of a SQLite worker thread (worker-client.ts is the event
 * loop's): opens the objects it hosts, then runs the calls it is sent, one
 * at a time, in the order sent. A statement the disk does not answer
 * (frozen, stalled) blocks this thread, not the event loop. Shared by the
 * database worker (database-worker.ts) and the built-in FHIR endpoint's
 * index worker (fhir-endpoint/sqlite-index-worker.ts): one protocol, one
 * deadline rule, each worker only says what it hosts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from 'pino';
import { serializeError, toCloneableFields, type FromWorker, type ToWorker } from './worker-protocol.js';

/** What a worker hosts: the objects calls may name, and how to close them (the database). */
export interface HostedObjects {
  targets: Record<string, object>;
  close(): void | Promise<void>;
}

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

/** Runs in the worker: `open` (with the client's settings) gives the hosted objects; then calls are served until close. */
export function hostObjects<Settings>(name: string, open: (settings: Settings, logger: Logger) => HostedObjects): void {
  let hosted: HostedObjects;
  try {
    hosted = open(workerData as Settings, forwardingLogger());
  } catch (err) {
    post({ kind: 'openFailed', error: serializeError(err) });
    return;
  }
  const { targets } = hosted;
  port.on('message', (message: ToWorker) => {
    if (message.kind === 'close') {
      void Promise.resolve()
        .then(() => hosted.close())
        .catch((err: unknown) => post({ kind: 'log', level: 'error', fields: toCloneableFields({ err }), msg: `${name}: close failed` }))
        .finally(() => {
          post({ kind: 'closed' });
          port.close();
        });
      return;
    }
    const { id, target, method, args, deadline } = message;
    // Its caller was answered (timed out) long ago: not begun, so not run at all.
    if (deadline !== undefined && Date.now() > deadline) {
      post({ kind: 'expired', id });
      return;
    }
    try {
      const object = targets[target] as Record<string, (...a: unknown[]) => unknown> | undefined;
      const fn = object?.[method];
      if (typeof fn !== 'function') throw new Error(`${name}: no method ${target}.${method}`);
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
