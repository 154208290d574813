/**
 * RedisResourceIndex on a real redis-server: the ResourceIndex contract;
 * the same answers as the SQLite index for the same data and queries (every
 * parameter, every `started` prefix, each sort, paged windows, count only, in
 * R4/R5/STU3); the key layout (one hash tag, no temporary keys left, nothing
 * left after removing everything); atomic replacement under concurrent
 * searches; client ownership; the FHIR endpoint served from it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FhirVersion } from '../../src/fhir/mapping-options.js';
import { handleFhirRequest } from '../../src/fhir-endpoint/index.js';
import { IndexKeys, indexBase, RedisResourceIndex } from '../../src/fhir-endpoint/redis/index.js';
import type { FhirResource, ParsedSearch } from '../../src/fhir-endpoint/resource-index.js';
import { SqliteResourceIndex } from '../../src/fhir-endpoint/sqlite-resource-index.js';
import { freePort } from '../support/free-port.js';
import { useRedisServer } from '../support/redis-server.js';
import { dataSet, TIMEZONE, uid } from './data-set.js';
import { COMMON_QUERIES, describeResourceIndexContract, parse, R4_QUERIES } from './index-contract.js';

const testRedis = useRedisServer();
let n = 0;

/** Every key of a prefix's index. */
async function keysOf(prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await testRedis.client.scan(cursor, 'MATCH', `${indexBase(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out.sort();
}

async function deleteKeys(prefix: string): Promise<void> {
  const keys = await keysOf(prefix);
  if (keys.length > 0) await testRedis.client.del(...keys);
}

/** A fresh prefix per index: indexes of one test file share the server. */
function freshPrefix(): string {
  n += 1;
  return `t${n}`;
}

describeResourceIndexContract('Redis', async (options) => {
  const prefix = freshPrefix();
  const index = new RedisResourceIndex({ ...options, client: testRedis.client, prefix });
  return {
    index,
    async cleanup() {
      await index.close();
      await deleteKeys(prefix);
    },
  };
});

describe('the same answers as the SQLite index', () => {
  const SORTS = ['', '_sort=started', '_sort=-started', '_sort=_id', '_sort=-_id', '_sort=started,-_id', '_sort=-started,-_id', '_sort=-_id,-started'];
  // SQLite's total counts a resource once per matching term for a single system-only
  // token match (S3: PT and CT); the contract holds both to the distinct count.
  const SYSTEM_ONLY = /DCM%7C$/;

  describe.each([['R4'], ['R5'], ['STU3']] as const)('%s', (version: FhirVersion) => {
    let redis: RedisResourceIndex;
    let sqlite: SqliteResourceIndex;
    let dir: string;
    const prefix = freshPrefix();
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'fhir-index-diff-'));
      redis = new RedisResourceIndex({ client: testRedis.client, prefix, fhirVersion: version, timezone: TIMEZONE });
      sqlite = new SqliteResourceIndex({ dataDir: dir, fhirVersion: version, timezone: TIMEZONE });
      const resources = dataSet(version);
      await redis.put(resources);
      await sqlite.put(resources);
    });
    afterAll(async () => {
      await redis.close();
      await sqlite.close();
      await deleteKeys(prefix);
      rmSync(dir, { recursive: true, force: true });
    });

    const queries = (version === 'R4' ? R4_QUERIES : COMMON_QUERIES).map(([query]) => query).filter((query) => !SYSTEM_ONLY.test(query));

    test.each(queries)('%s: every sort, paged by 3, and count only', async (query) => {
      for (const sort of SORTS) {
        const base = parse([query, sort].filter((x) => x !== '').join('&'), version);
        const searches: ParsedSearch[] = [{ ...base, count: 0 }, { ...base, count: 1000 }];
        for (let offset = 0; offset <= 9; offset += 3) searches.push({ ...base, count: 3, offset });
        for (const search of searches) {
          const expected = await sqlite.search('ImagingStudy', search);
          expect(await redis.search('ImagingStudy', search), `${query} ${sort} ${search.count}@${search.offset}`).toEqual(expected);
        }
      }
    });

    test('reads and the other types', async () => {
      for (const r of dataSet(version)) expect(await redis.read(r.resourceType, r.id!)).toEqual(await sqlite.read(r.resourceType, r.id!));
      for (const type of ['Patient', 'Endpoint']) {
        expect(await redis.search(type, parse('_sort=-_id'))).toEqual(await sqlite.search(type, parse('_sort=-_id')));
      }
    });
  });
});

describe('Redis layout', () => {
  test('every key carries the hash tag {<prefix>:fhir}; searches leave no temporary keys and write nothing to the AOF; removing everything leaves no key', async () => {
    const prefix = freshPrefix();
    const index = new RedisResourceIndex({ client: testRedis.client, prefix, fhirVersion: 'R4', timezone: TIMEZONE });
    const resources = dataSet('R4');
    await index.put(resources);
    const before = await keysOf(prefix);
    expect(before.length).toBeGreaterThan(resources.length);
    const aofSize = async () => /aof_current_size:(\d+)/.exec(await testRedis.client.info('persistence'))![1];
    const aofBefore = await aofSize();
    const all = await testRedis.client.keys('*');
    for (const key of all.filter((k) => k.includes(`${prefix}:fhir`))) expect(key.startsWith(`{${prefix}:fhir}:`), key).toBe(true);
    expect(before).toContain(`{${prefix}:fhir}:ImagingStudy:${uid(1)}`);

    for (const query of ['modality=CT,MR&started=ge2024&_sort=-started', 'patient.identifier=PID-1&_sort=started&_count=2&_offset=2', 'started=ne2024-07-05&_id=' + uid(3), '_sort=started']) {
      expect((await index.search('ImagingStudy', parse(query))).total).toBeGreaterThan(0);
    }
    expect((await index.search('ImagingStudy', { ...parse('modality=CT&modality=PT'), count: 0 })).total).toBe(1);
    expect(await keysOf(prefix)).toEqual(before);
    // The temporary keys are not propagated: searches leave the append-only file as it was.
    expect(await aofSize()).toBe(aofBefore);

    for (const r of resources) await index.remove(r.resourceType, r.id!);
    expect(await keysOf(prefix)).toEqual([]);
    await index.close();
  });

  test('put takes the old terms out: the token sets, the date sorted sets, the sort key and the term set follow the new content', async () => {
    const prefix = freshPrefix();
    const keys = new IndexKeys(indexBase(prefix));
    const index = new RedisResourceIndex({ client: testRedis.client, prefix, fhirVersion: 'R4', timezone: 'UTC' });
    const study = dataSet('R4').find((r) => r.id === uid(1))!;
    await index.put([study]);
    const ct = keys.token('ImagingStudy', 'modality', undefined, 'CT');
    const dcmCt = keys.token('ImagingStudy', 'modality', 'http://dicom.nema.org/resources/ontology/DCM', 'CT');
    expect(await testRedis.client.sismember(ct, uid(1))).toBe(1);
    expect(await testRedis.client.sismember(dcmCt, uid(1))).toBe(1);
    expect(await testRedis.client.zscore(keys.sortStarted('ImagingStudy'), uid(1))).toBe(String(Date.parse('2024-07-05T05:30:00Z')));
    expect(await testRedis.client.zscore(keys.dateHigh('ImagingStudy', 'started'), `0:${uid(1)}`)).toBe(String(Date.parse('2024-07-05T05:30:01Z')));

    await index.put([{ ...study, modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' }], series: [], started: '2021-03' }]);
    expect(await testRedis.client.exists(ct, dcmCt)).toBe(0);
    expect(await testRedis.client.sismember(keys.token('ImagingStudy', 'modality', null, 'MR'), uid(1))).toBe(0);
    expect(await testRedis.client.sismember(keys.token('ImagingStudy', 'modality', 'http://dicom.nema.org/resources/ontology/DCM', 'MR'), uid(1))).toBe(1);
    expect(await testRedis.client.zscore(keys.sortStarted('ImagingStudy'), uid(1))).toBe(String(Date.parse('2021-03-01T00:00:00Z')));
    expect(await testRedis.client.zrangebyscore(keys.dateLow('ImagingStudy', 'started'), '-inf', '+inf', 'WITHSCORES')).toEqual([`0:${uid(1)}`, String(Date.parse('2021-03-01T00:00:00Z'))]);
    const terms = await testRedis.client.smembers(keys.terms('ImagingStudy', uid(1)));
    expect(terms).toContain(`s:${keys.token('ImagingStudy', 'modality', undefined, 'MR')}`);
    expect(terms.some((t) => t.includes('CT'))).toBe(false);

    const { started: _s, ...undated } = study;
    await index.put([undated]);
    expect(await testRedis.client.zscore(keys.sortStarted('ImagingStudy'), uid(1))).toBeNull();
    expect(await testRedis.client.exists(keys.dateLow('ImagingStudy', 'started'), keys.dateHigh('ImagingStudy', 'started'))).toBe(0);
    await index.close();
    await deleteKeys(prefix);
  });

  test('token keys escape | and \\ so that distinct (system, code) pairs never share a set', () => {
    const keys = new IndexKeys(indexBase('x'));
    const variants = [
      keys.token('T', 'p', 'a', 'b'),
      keys.token('T', 'p', undefined, 'a|b'),
      keys.token('T', 'p', 'a|', 'b'),
      keys.token('T', 'p', 'a\\', 'b'),
      keys.token('T', 'p', null, 'a|b'),
      keys.token('T', 'p', null, '|b'),
      keys.token('T', 'p', undefined, '|b'),
      keys.token('T', 'p', 'a', undefined),
      keys.token('T', 'p', undefined, 'a|'),
      keys.token('T', 'p', null, undefined),
      keys.token('T', 'p', undefined, undefined),
      keys.token('T', 'p:identifier', undefined, 'x'),
      keys.token('T', 'p', undefined, 'identifier=x'),
    ];
    expect(new Set(variants).size).toBe(variants.length);
    expect(keys.token('ImagingStudy', 'identifier', 'urn:dicom:uid', '1.2.3')).toBe('{x:fhir}:idx:ImagingStudy:identifier=urn:dicom:uid|1.2.3');
  });

  test('a replacement is atomic: concurrent searches always find the study under exactly one modality', async () => {
    const prefix = freshPrefix();
    const index = new RedisResourceIndex({ client: testRedis.client, prefix, fhirVersion: 'R4', timezone: TIMEZONE });
    const study = dataSet('R4').find((r) => r.id === uid(1))!;
    const as = (code: string): FhirResource => ({ ...study, modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code }], series: [] });
    await index.put([as('CT')]);
    const writes: Promise<void>[] = [];
    const reads: Promise<number>[] = [];
    for (let i = 0; i < 60; i += 1) {
      writes.push(index.put([as(i % 2 === 0 ? 'MR' : 'CT')]));
      reads.push(index.search('ImagingStudy', parse(`modality=CT,MR&_id=${uid(1)}`)).then((r) => r.total));
      reads.push(index.search('ImagingStudy', { ...parse('modality=CT&modality=MR'), count: 0 }).then((r) => r.total + 1));
    }
    await Promise.all(writes);
    expect(await Promise.all(reads)).toEqual(reads.map(() => 1));
    expect((await index.search('ImagingStudy', parse('modality=CT'))).resources.map((r) => r.id)).toEqual([uid(1)]);
    await index.close();
    await deleteKeys(prefix);
  });
});

describe('connections', () => {
  test('a URL: the index owns its connection and closes it; a testRedis.client passed in stays open; prefixes do not see each other', async () => {
    const owned = new RedisResourceIndex({ client: testRedis.server.url, prefix: 'owned', fhirVersion: 'R4', timezone: TIMEZONE });
    const shared = new RedisResourceIndex({ client: testRedis.client, prefix: 'shared', fhirVersion: 'R4', timezone: TIMEZONE });
    await owned.put(dataSet('R4'));
    expect((await owned.search('ImagingStudy', parse(''))).total).toBe(8);
    expect((await shared.search('ImagingStudy', parse(''))).total).toBe(0);
    expect(await shared.read('ImagingStudy', uid(1))).toBeUndefined();
    expect(await testRedis.client.client('LIST')).toContain('name=owned:fhir-index');

    await owned.close();
    await expect(owned.read('ImagingStudy', uid(1))).rejects.toThrow(/closed/);
    expect(await testRedis.client.client('LIST')).not.toContain('name=owned:fhir-index');
    await shared.close();
    expect(await testRedis.client.ping()).toBe('PONG');
    await deleteKeys('owned');
  });
});

describe('the FHIR endpoint on the Redis index', () => {
  let http: Server;
  let url: string;
  let index: RedisResourceIndex;
  const prefix = freshPrefix();
  beforeAll(async () => {
    index = new RedisResourceIndex({ client: testRedis.client, prefix, fhirVersion: 'R4', timezone: TIMEZONE });
    await index.put(dataSet('R4'));
    http = createServer((req, res) => {
      if (!handleFhirRequest(req, res, { index, fhirVersion: 'R4', timezone: TIMEZONE })) {
        res.writeHead(404);
        res.end();
      }
    });
    const port = await freePort();
    await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await index.close();
    await deleteKeys(prefix);
  });

  test('_count pages through every match by next links; _summary=count; read', async () => {
    let path: string | undefined = '/fhir/ImagingStudy?_count=3&_sort=started';
    const seen: string[] = [];
    while (path) {
      const body = (await (await fetch(`${url}${path}`)).json()) as any;
      expect(body.total).toBe(8);
      seen.push(...body.entry.map((e: any) => e.resource.id));
      const next = body.link.find((l: any) => l.relation === 'next');
      path = next ? next.url.slice(url.length) : undefined;
    }
    expect(seen).toEqual([uid(7), uid(3), uid(4), uid(8), uid(1), uid(2), uid(5), uid(6)]);
    const count = (await (await fetch(`${url}/fhir/ImagingStudy?modality=CT&_summary=count`)).json()) as any;
    expect(count.total).toBe(3);
    expect(count.entry).toBeUndefined();
    const read = await fetch(`${url}/fhir/ImagingStudy/${uid(4)}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as any).id).toBe(uid(4));
    expect((await fetch(`${url}/fhir/ImagingStudy/nope`)).status).toBe(404);
  });
});
