/**
 * Messages between the event loop and a SQLite worker thread of DATA_DIR
 * (worker-client.ts ↔ worker-host.ts): the database worker
 * (database-worker.ts) and the built-in FHIR endpoint's index worker
 * (fhir-endpoint/sqlite-index-worker.ts). A call names a hosted object
 * (`target`) and one of its methods. Values cross by structured clone;
 * errors as plain objects, so a SQLite code (SQLITE_FULL …) survives.
 */

export type ToWorker =
  | {
      kind: 'call';
      id: number;
      target: string;
      method: string;
      args: unknown[];
      /** Epoch ms after which nobody waits for the answer: not run if not begun by then. */
      deadline?: number;
    }
  | { kind: 'close' };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'openFailed'; error: SerializedError }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: SerializedError }
  | { kind: 'expired'; id: number }
  | { kind: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; fields: Record<string, unknown>; msg: string }
  | { kind: 'closed' };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(err.stack !== undefined ? { stack: err.stack } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

/** Built-in error classes callers test with instanceof (the admin API answers a RangeError with 400). */
const BUILT_IN_ERRORS: Record<string, new (message: string) => Error> = { RangeError, TypeError, SyntaxError };

export function deserializeError(e: SerializedError): Error {
  const err = new (BUILT_IN_ERRORS[e.name] ?? Error)(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

/** Log fields made cloneable: errors as marked plain objects (structured clone would drop their code). */
export function toCloneableFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? { errorObject: serializeError(value) } : value;
  return out;
}

/** toCloneableFields undone: the errors back as Error objects for the main thread's logger and its serializers. */
export function fromCloneableFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const wrapped = (value as { errorObject?: SerializedError } | null)?.errorObject;
    out[key] = wrapped !== undefined && typeof value === 'object' ? deserializeError(wrapped) : value;
  }
  return out;
}
