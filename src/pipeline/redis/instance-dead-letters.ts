/**
 * The dead-letter stream of the instances stream: an entry that failed
 * MAX_DELIVERIES deliveries (the consumer group's counter: the first read and
 * each claim) is moved there whole, acknowledged and deleted from the records
 * stream, in one script (lua/dead-letter-instances-2.lua), with one error log
 * line. It stays there until an operator re-queues it (README, Operations:
 * lua/requeue-dead-letters-2.lua) or deletes it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { INSTANCE_STREAM_GROUP, type InstanceStreamKeys } from './keys.js';
import { loadLuaScript, runLuaScript } from './lua-script.js';

const DEAD_LETTER = loadLuaScript(new URL('./lua/', import.meta.url), 'dead-letter-instances-2.lua');

/**
 * Deliveries an entry may fail before it is moved. With a claim after each
 * lock duration idle, a record that cannot be merged is kept about 5 lock
 * durations (2.5 min by default): a fault that clears sooner (a fixed FHIR
 * mapping does not matter here, the merge is local) does not dead-letter it.
 */
export const MAX_DELIVERIES = 5;

/** An entry that failed this delivery: `reason` is log-safe, `error` may quote the record (kept in Redis only). */
export interface EntryFailure {
  id: string;
  reason: string;
  error: string;
}

/**
 * Moves the failed entries that reached MAX_DELIVERIES; the others stay
 * pending, for a claim after the lock duration (one warn line each).
 */
export async function deadLetterFailed(
  conn: Redis,
  keys: InstanceStreamKeys,
  consumer: string,
  failures: EntryFailure[],
  logger: Logger,
): Promise<void> {
  const args: string[] = [INSTANCE_STREAM_GROUP, consumer, String(MAX_DELIVERIES), new Date().toISOString()];
  for (const f of failures) args.push(f.id, f.reason, f.error.slice(0, 2000));
  const reply = (await runLuaScript(conn, DEAD_LETTER, [keys.records, keys.deadLetters], args)) as number[];
  failures.forEach((f, i) => {
    const result = reply[i] ?? 0;
    if (result < 0) {
      logger.error(
        { entryId: f.id, reason: f.reason, deliveries: -result, deadLetters: keys.deadLetters },
        'instance record moved to the dead-letter stream',
      );
    } else if (result > 0) {
      logger.warn(
        { entryId: f.id, reason: f.reason, deliveries: result, maxDeliveries: MAX_DELIVERIES },
        'instance record failed; handed out again after the lock duration',
      );
    }
  });
}

/** Records in the dead-letter stream. */
export function deadLetterCount(client: Redis, keys: InstanceStreamKeys): Promise<number> {
  return client.xlen(keys.deadLetters);
}
