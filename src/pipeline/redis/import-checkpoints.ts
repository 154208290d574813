import type { Redis } from 'ioredis';
import type { ImportCheckpoints } from '../import-checkpoints.js';
import { importCheckpointsKey } from './keys.js';

/** Import checkpoints in one Redis hash per run: item → `instances \t doneAt`. */
export function redisImportCheckpoints(client: Redis, prefix: string): ImportCheckpoints {
  return {
    async done(run) {
      return new Set(await client.hkeys(importCheckpointsKey(prefix, run)));
    },
    async mark(run, item, instances) {
      await client.hset(importCheckpointsKey(prefix, run), item, `${instances}\t${new Date().toISOString()}`);
    },
    async clear(run) {
      await client.del(importCheckpointsKey(prefix, run));
    },
  };
}
