/** Redis only: the search index of a store written before it existed is built by the first search. */
import { describe, expect, it } from 'vitest';
import { RedisStudyStore } from '../../../src/pipeline/redis/index.js';
import { searchIndexKeys } from '../../../src/pipeline/redis/keys.js';
import { makeRecord, silentLogger } from '../helpers.js';
import { useRedisServer } from '../../support/redis-server.js';

const redis = useRedisServer({ flushAfterEach: true });

describe('RedisStudyStore search index', () => {
  it('is built from the study hashes by the first search when it is missing, and kept from then on', async () => {
    const store = new RedisStudyStore({ client: redis.client, logger: silentLogger, prefix: 'old' });
    const records = Array.from({ length: 30 }, (_, i) =>
      makeRecord({ study: `1.9.${i}`, sop: `1.9.${i}.1`, patientId: i % 3 === 0 ? 'P3' : 'PX', receivedAt: `2024-03-01T10:00:${String(i).padStart(2, '0')}.000Z` }),
    );
    await store.mergeInstances(records);
    // As a store written by a bridge without the index: none of its keys.
    const keys = searchIndexKeys('old');
    await redis.client.del(keys.terms, keys.received, keys.studyDate, keys.accession, keys.patientId, keys.built);

    const fresh = new RedisStudyStore({ client: redis.client, logger: silentLogger, prefix: 'old' });
    const page = await fresh.searchSummaries({ patientId: 'P3' }, { offset: 0, limit: 5 });
    expect(page.total).toBe(10);
    expect(page.studies.map((s) => s.studyInstanceUid)).toEqual(['1.9.27', '1.9.24', '1.9.21', '1.9.18', '1.9.15']);
    expect(await redis.client.exists(keys.built)).toBe(1);
    expect((await fresh.searchSummaries({}, { offset: 0, limit: 1 })).total).toBe(30);

    await fresh.mergeInstances([makeRecord({ study: '1.9.99', sop: '1.9.99.1', patientId: 'P3', receivedAt: '2024-03-01T11:00:00.000Z' })]);
    expect((await fresh.searchSummaries({ patientId: 'P3' }, { offset: 0, limit: 1 })).studies[0]?.studyInstanceUid).toBe('1.9.99');
    expect(await fresh.rebuildSearchIndex()).toBe(31);
    expect((await fresh.searchSummaries({ patientId: 'P3' }, { offset: 0, limit: 50 })).total).toBe(11);
  });

  it('takes a study out of the index when its hash is gone (e.g. removed by hand)', async () => {
    const store = new RedisStudyStore({ client: redis.client, logger: silentLogger, prefix: 'gone' });
    await store.mergeInstances([makeRecord({ study: 'G1', sop: 'G1.1', patientId: 'PG' }), makeRecord({ study: 'G2', sop: 'G2.1', patientId: 'PG' })]);
    expect((await store.searchSummaries({ patientId: 'PG' }, { offset: 0, limit: 5 })).total).toBe(2);
    await redis.client.del('gone:{G1}:study');
    expect(await store.rebuildSearchIndex()).toBe(1);
    expect(await store.searchSummaries({ patientId: 'PG' }, { offset: 0, limit: 5 })).toMatchObject({ total: 1, studies: [{ studyInstanceUid: 'G2' }] });
    expect((await store.searchSummaries({}, { offset: 0, limit: 5 })).total).toBe(1);
  });
});
