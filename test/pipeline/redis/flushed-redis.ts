import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startRedis, type TestRedis } from '../../support/redis-server.js';

/**
 * One redis-server for the calling test file (no fsync: these tests don't
 * crash it) and a client; the database is flushed after each test.
 */
export function useFlushedRedis(): { readonly server: TestRedis; readonly client: Redis } {
  let server: TestRedis | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis({ appendfsync: 'no' });
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  afterEach(async () => {
    await client?.flushdb();
  });
  afterAll(async () => {
    await client?.quit();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('redis-server not started yet');
      return server;
    },
    get client() {
      if (!client) throw new Error('redis client not connected yet');
      return client;
    },
  };
}
