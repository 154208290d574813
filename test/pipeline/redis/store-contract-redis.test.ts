import { RedisStudyStore } from '../../../src/pipeline/redis/index.js';
import { useRedisServer } from '../../support/redis-server.js';
import { silentLogger } from '../helpers.js';
import { describeStudyStoreContract } from '../store-contract.js';

const redis = useRedisServer();
let n = 0;

describeStudyStoreContract('Redis', async () => {
  // A fresh key prefix per test: the state index is shared by all studies of a prefix.
  n += 1;
  const prefix = `contract${n}`;
  const store = new RedisStudyStore({ client: redis.client, logger: silentLogger, prefix });
  return {
    store,
    async cleanup() {
      await store.close();
      await redis.client.flushdb();
    },
  };
});
