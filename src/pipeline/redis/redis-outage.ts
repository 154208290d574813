/**
 * Whether an error says Redis is away or refuses writes for a while (down,
 * reconnecting, loading, out of memory, a replica, a Cluster resharding), as
 * opposed to an error of the records themselves. A batch that fails with one
 * is retried whole and counts no delivery against its records: an outage
 * must never move records to the dead-letter stream.
 */
const REPLY_CODES = /^(OOM|LOADING|BUSY|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF|MOVED|ASK|NOSCRIPT)\b/;
/** ioredis' and our own messages when a command cannot be sent or answered (job-queue.ts, study-store.ts). */
const UNREACHABLE =
  /Connection is closed|Stream isn't writeable|redis is not available|did not answer within|pipeline aborted|queue closed|job queue is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/;
const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export function isRedisOutage(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'AbortError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NODE_CODES.has(code)) return true;
  if (REPLY_CODES.test(err.message) || UNREACHABLE.test(err.message)) return true;
  return depth < 3 && err.cause !== undefined && isRedisOutage(err.cause, depth + 1);
}
