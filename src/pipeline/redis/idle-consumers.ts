/**
 * Every process start names a new consumer of the instances group; this
 * removes those of stopped processes (lua/remove-idle-consumers-1.lua): no
 * pending entry and idle longer than the lock duration. A consumer that still
 * holds pending entries is kept until a claim has taken them (XGROUP
 * DELCONSUMER would drop them from the group: records never handed out again).
 */
import type { Redis } from 'ioredis';
import { INSTANCE_STREAM_GROUP, type InstanceStreamKeys } from './keys.js';
import { loadLuaScript, runLuaScript } from './lua-script.js';

const REMOVE_IDLE_CONSUMERS = loadLuaScript(new URL('./lua/', import.meta.url), 'remove-idle-consumers-1.lua');

/** Removes them; resolves their names. `self` is never removed. */
export async function removeIdleConsumers(conn: Redis, keys: InstanceStreamKeys, self: string, minIdleMs: number): Promise<string[]> {
  return (await runLuaScript(conn, REMOVE_IDLE_CONSUMERS, [keys.records], [INSTANCE_STREAM_GROUP, self, Math.round(minIdleMs)])) as string[];
}
