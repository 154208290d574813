import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Between two log lines of one connection's errors: a Redis that is down reports one every reconnect. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Logs the connection's errors at warn, at most one line per 10 s (the
 * message only: no stack per reconnect). Returns the logging function, for
 * errors of the same connection that arrive elsewhere (e.g. BullMQ workers).
 */
export function logConnectionErrors(client: Redis, logger: Logger, message: string): (err: Error) => void {
  let last = 0;
  const log = (err: Error): void => {
    const now = Date.now();
    if (now - last > LOG_INTERVAL_MS) {
      last = now;
      logger.warn({ err: err.message }, message);
    }
  };
  client.on('error', log);
  return log;
}
