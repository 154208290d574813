import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RedisStudyStore } from '../../../src/pipeline/redis/index.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { silentLogger } from '../helpers.js';
import { describeStudySearchContract } from '../store-search-contract.js';

let server: TestRedis;
let client: Redis;
let n = 0;

beforeAll(async () => {
  server = await startRedis({ appendfsync: 'no' });
  client = new Redis(server.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await client?.quit();
  await server?.stop();
});

describeStudySearchContract('Redis', async () => {
  // A fresh key prefix per test: the indexes are shared by all studies of a prefix.
  n += 1;
  const store = new RedisStudyStore({ client, logger: silentLogger, prefix: `search${n}` });
  return {
    store,
    async cleanup() {
      await store.close();
      await client.flushdb();
    },
  };
});
