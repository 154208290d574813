import { randomUUID } from 'node:crypto';
import { startRedis, type TestRedis } from '../support/redis-server.js';

/** The two deployments the end-to-end suite runs in (architecture.md). */
export const MODES = ['embedded', 'redis'] as const;
export type Mode = (typeof MODES)[number];

/**
 * Environment for a bridge of `mode`. Redis mode gets one redis-server per
 * suite (appendfsync always) and a fresh key prefix per call, so bridges of
 * different tests never share queues.
 */
export class ModeEnvironment {
  private redis: TestRedis | undefined;

  constructor(readonly mode: Mode) {}

  async env(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    if (this.mode === 'embedded') return extra;
    this.redis ??= await startRedis();
    return {
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
      REDIS_LOCK_DURATION_MS: '3000',
      ...extra,
    };
  }

  async close(): Promise<void> {
    await this.redis?.stop();
  }
}
