import { RedisStudyStore } from '../../../src/pipeline/redis/index.js';
import { useRedisServer } from '../../support/redis-server.js';
import { silentLogger } from '../helpers.js';
import { describeStudySearchContract } from '../store-search-contract.js';

const redis = useRedisServer();
let n = 0;

describeStudySearchContract('Redis', async () => {
  // A fresh key prefix per test: the indexes are shared by all studies of a prefix.
  n += 1;
  const store = new RedisStudyStore({ client: redis.client, logger: silentLogger, prefix: `search${n}` });
  return {
    store,
    async cleanup() {
      await store.close();
      await redis.client.flushdb();
    },
  };
});
