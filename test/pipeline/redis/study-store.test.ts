import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisStudyStore, stateIndexKey, studyKeys } from '../../../src/pipeline/redis/index.js';
import { searchIndexKeys } from '../../../src/pipeline/redis/keys.js';
import { makeRecord, silentLogger } from '../helpers.js';
import { useRedisServer } from '../../support/redis-server.js';

const redis = useRedisServer({ flushAfterEach: true });

describe('RedisStudyStore specifics', () => {
  it('keeps every key of a study under the study UID hash tag, and the state index under {index}', async () => {
    const store = new RedisStudyStore({ client: redis.client, logger: silentLogger });
    await store.mergeInstances([makeRecord({ study: '1.2.840.99', series: 'S1', sop: 'I1' })]);
    const keys = (await redis.client.keys('*')).sort();
    expect(keys).toEqual(
      [
        ...Object.values(studyKeys('dfb', '1.2.840.99')).filter((k) => !k.endsWith('publish-requested')),
        stateIndexKey('dfb', 'pending'),
        // The admin console's search index (no accession number, no built marker before a search).
        ...[searchIndexKeys('dfb')].flatMap((k) => [k.terms, k.received, k.studyDate, k.patientId]),
      ].sort(),
    );
    for (const key of keys.filter((k) => !k.includes('{index}'))) expect(key.startsWith('dfb:{1.2.840.99}:')).toBe(true);
  });

  it('merges of one study from two connections at once are atomic: no instance is lost', async () => {
    const other = new Redis(redis.server.url, { maxRetriesPerRequest: 1 });
    try {
      const a = new RedisStudyStore({ client: redis.client, logger: silentLogger });
      const b = new RedisStudyStore({ client: other, logger: silentLogger });
      const batches = Array.from({ length: 40 }, (_, i) =>
        Array.from({ length: 25 }, (_, j) => makeRecord({ series: `S${j % 3}`, seriesNumber: j % 3, sop: `I${i}.${j}` })),
      );
      await Promise.all(batches.map((batch, i) => (i % 2 === 0 ? a : b).mergeInstances(batch)));
      expect(await a.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 3, numberOfInstances: 1000 });
      const state = await b.getStudy('1.2.3');
      expect(state?.series.reduce((n, s) => n + s.instances.length, 0)).toBe(1000);
    } finally {
      await other.quit();
    }
  });

  it('rebuildStateIndex restores an index lost between a merge and its index update', async () => {
    const store = new RedisStudyStore({ client: redis.client, logger: silentLogger, prefix: 'rb' });
    await store.mergeInstances([makeRecord({ study: 'A', sop: 'a1' }), makeRecord({ study: 'B', sop: 'b1' })]);
    await store.setPublishStatus('B', { state: 'published', attempts: 1 });
    await redis.client.del(stateIndexKey('rb', 'pending'), stateIndexKey('rb', 'published'));
    expect(await store.countByState()).toEqual({ pending: 0, published: 0, failed: 0 });
    expect(await store.rebuildStateIndex()).toBe(2);
    expect(await store.countByState()).toEqual({ pending: 1, published: 1, failed: 0 });
  });

  it('uses a bounded amount of memory per instance (10,000 instances)', async () => {
    const store = new RedisStudyStore({ client: redis.client, logger: silentLogger });
    const before = Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))![1]);
    for (let s = 0; s < 10; s += 1) {
      const records = Array.from({ length: 1000 }, (_, i) =>
        makeRecord({
          study: `1.2.826.0.1.3680043.8.498.${s}`,
          series: `1.2.826.0.1.3680043.8.498.${s}.${i % 4}`,
          seriesNumber: i % 4,
          sop: `1.2.826.0.1.3680043.8.498.${s}.${i % 4}.${i}`,
          instanceNumber: i,
        }),
      );
      for (let i = 0; i < records.length; i += 250) await store.mergeInstances(records.slice(i, i + 250));
    }
    const after = Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))![1]);
    let instancesHashes = 0;
    for (let s = 0; s < 10; s += 1) {
      instancesHashes += Number(await redis.client.memory('USAGE', studyKeys('dfb', `1.2.826.0.1.3680043.8.498.${s}`).instances));
    }
    const perInstance = (after - before) / 10_000;
    console.info(
      `redis memory: ${Math.round(perInstance)} bytes/instance overall (used_memory delta), ` +
        `${Math.round(instancesHashes / 10_000)} bytes/instance in the instances hashes`,
    );
    expect((await store.getSummary('1.2.826.0.1.3680043.8.498.0'))?.numberOfInstances).toBe(1000);
    expect(perInstance).toBeLessThan(1024);
  });
});
