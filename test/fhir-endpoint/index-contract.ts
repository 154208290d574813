/**
 * The ResourceIndex contract, run against each implementation (SQLite,
 * Redis): put/replace/remove/read, a failing put, and every search over the
 * shared data set (data-set.ts), parsed by the endpoint's own parser — every
 * parameter and token form, every `started` prefix, the chain, AND/OR, in
 * R4, R5 and STU3; _sort orders (ties, undated last), _count/_offset paging,
 * count-only totals.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FhirVersion } from '../../src/fhir/mapping-options.js';
import { parseImagingStudySearch, SEARCH_LIMITS } from '../../src/fhir-endpoint/search-parameters.js';
import { patientId } from '../../src/fhir/resource-ids.js';
import type { FhirResource, ParsedSearch, ResourceIndex, ResourceIndexOptions } from '../../src/fhir-endpoint/resource-index.js';
import { ALL, CT_IMAGE, dataSet, ENDPOINT_ID, ids, instanceUid, MR_IMAGE, P1, P2, P3, seriesUid, TIMEZONE, uid } from './data-set.js';

export interface IndexUnderTest {
  index: ResourceIndex;
  /** Closes the index and removes what it stored. */
  cleanup(): Promise<void>;
}

export type IndexFactory = (options: ResourceIndexOptions) => Promise<IndexUnderTest>;

const q = encodeURIComponent;

/** The ParsedSearch of `GET ImagingStudy?<query>` (the endpoint's parser, strict). */
export function parse(query: string, version: FhirVersion = 'R4'): ParsedSearch {
  return parseImagingStudySearch(new URLSearchParams(query), { version, timezone: TIMEZONE, lenient: false }).search;
}

const byModality = (code: string): ParsedSearch => ({ where: [[{ kind: 'token', param: 'modality', code }]], sort: [], count: 50, offset: 0 });

/** Every search parameter and form over the R4 data set (the expectations of search.test.ts). */
export const R4_QUERIES: Array<[string, number[]]> = [
  [`identifier=${q(`urn:dicom:uid|urn:oid:${uid(4)}`)}`, [4]],
  [`identifier=${q(`urn:oid:${uid(4)}`)}`, [4]],
  [`identifier=${q('|S7')}`, [7]],
  [`identifier=${q('urn:dicom:uid|')}`, [1, 2, 3, 4, 5, 6, 7, 8]],
  [`identifier=${q('urn:other|S7')}`, []],
  ['accession=ACC-5', [5]],
  [`accession=${q('|ACC-5')}`, [5]],
  ['accession=ACC-1,ACC-8,NOPE', [1, 8]],
  ['accession=S1', []],
  ['modality=CT', [1, 3, 7]],
  [`modality=${q('http://dicom.nema.org/resources/ontology/DCM|MR')}`, [2, 6]],
  [`modality=${q('http://wrong.example|MR')}`, []],
  ['modality=PT&modality=CT', [3]],
  ['modality=US,MG', [4, 8]],
  ['modality=CT,MR&modality=CT', [1, 3, 7]],
  // System only: S3 has two DCM modalities (PT, CT) and still counts once.
  [`modality=${q('http://dicom.nema.org/resources/ontology/DCM|')}`, [1, 2, 3, 4, 5, 6, 7, 8]],
  ['bodysite=816094009', [1, 5]],
  [`bodysite=${q('http://snomed.info/sct|69536005')}`, [2, 7]],
  [`dicom-class=${CT_IMAGE}`, [1, 3, 7]],
  [`dicom-class=${q(`urn:oid:${MR_IMAGE}`)}`, [2, 6]],
  [`dicom-class=${q(`urn:ietf:rfc:3986|urn:oid:${MR_IMAGE}`)}`, [2, 6]],
  [`series=${seriesUid(3, 1)}`, [3]],
  [`series=${q(`urn:oid:${seriesUid(3, 0)}`)}`, [3]],
  [`instance=${instanceUid(5, 0)}`, [5]],
  [`uid=${q(`urn:oid:${instanceUid(6, 0)}`)}`, [6]],
  [`study=${q(`urn:oid:${uid(2)}`)}`, [2]],
  [`study=${uid(2)},${uid(8)}`, [2, 8]],
  [`_id=${uid(7)}`, [7]],
  [`_id=${uid(7)},${uid(3)},nope`, [3, 7]],
  [`_id=${uid(7)}&modality=MR`, []],
  ['status=available', [1, 2, 3, 4, 5, 6, 7, 8]],
  [`status=${q('http://hl7.org/fhir/imagingstudy-status|available')}`, [1, 2, 3, 4, 5, 6, 7, 8]],
  ['status=cancelled', []],
  [`patient=Patient/${patientId(P1)}`, [1, 2, 3]],
  [`patient=${patientId(P1)}`, [1, 2, 3]],
  [`patient=${q(`http://bridge.example/fhir/Patient/${patientId(P3)}`)}`, [7, 8]],
  [`subject=Patient/${patientId(P2)}`, [4, 5, 6]],
  [`subject:Patient=${patientId(P2)}`, [4, 5, 6]],
  ['patient=Patient/unknown', []],
  [`patient:identifier=${q(`${P2.system}|${P2.value}`)}`, [4, 5, 6]],
  [`patient.identifier=${q(`${P1.system}|${P1.value}`)}`, [1, 2, 3]],
  [`patient.identifier=${q(P3.value)}`, [7, 8]],
  [`patient.identifier=${q(`${P1.system}|${P2.value}`)}`, []],
  [`patient.identifier=${q(`${P1.value},${P3.system}|${P3.value}`)}`, [1, 2, 3, 7, 8]],
  ['basedon:identifier=ACC-4', [4]],
  ['order=ACC-4,ACC-6', [4, 6]],
  ['basedon=ServiceRequest/none', []],
  [`endpoint=Endpoint/${ENDPOINT_ID}`, [1, 2, 3, 4, 5, 6, 7, 8]],
  [`patient=Patient/${patientId(P1)}&modality=CT&started=ge2024`, [1]],
  // started: every prefix (Europe/Paris: the day 2024-07-05 is [07-04T22:00Z, 07-05T22:00Z)).
  ['started=2024-07-05', [1]],
  ['started=eq2024-07-05', [1]],
  ['started=ne2024-07-05', [2, 3, 4, 5, 7, 8]],
  ['started=lt2024-07-05', [3, 4, 7, 8]],
  ['started=le2024-07-05', [1, 3, 4, 7, 8]],
  ['started=gt2024-07-05', [2, 5]],
  ['started=ge2024-07-05', [1, 2, 5]],
  ['started=sa2024-07-05', [2, 5]],
  ['started=eb2024-07-05', [3, 4, 7, 8]],
  // A date-only value (S2) is a range that straddles the search instant.
  [`started=${q('gt2024-07-06T12:00:00Z')}`, [2]],
  [`started=${q('sa2024-07-06T12:00:00Z')}`, []],
  [`started=${q('lt2024-07-06T12:00:00Z')}`, [1, 2, 3, 4, 5, 7, 8]],
  [`started=${q('eb2024-07-06T12:00:00Z')}`, [1, 3, 4, 5, 7, 8]],
  [`started=${q('ge2024-07-06T12:00:00Z')}`, [2]],
  [`started=${q('le2024-07-06T12:00:00Z')}`, [1, 2, 3, 4, 5, 7, 8]],
  [`started=${q('ne2024-07-06T12:00:00Z')}`, [1, 2, 3, 4, 5, 7, 8]],
  ['started=2024', [1, 2, 4, 5, 8]],
  ['started=2023', [3]],
  ['started=2024-07', [1, 2, 5]],
  ['started=2024-02-29', [8]],
  ['started=ge2022&started=lt2023', [7]],
  ['started=2022,2023', [3, 7]],
  ['started=lt2022,gt2024-07-06', []],
  [`started=${q('2024-07-05T23:30:00Z')}`, [5]],
  [`started=${q('2024-07-06T01:30:00+02:00')}`, [5]],
  [`started=${q('2024-07-06T01:30:00')}`, [5]],
  [`started=${q('2024-07-05T07:30+02:00')}`, [1]],
  [`started=${q('2024-01-15T15:00:00Z')}`, [4]],
];

/** Queries with the same answer in every version (versions.test.ts). */
export const COMMON_QUERIES: Array<[string, number[]]> = [
  ['accession=ACC-5', [5]],
  ['modality=CT', [1, 3, 7]],
  ['modality=PT&modality=CT', [3]],
  [`bodysite=${q('http://snomed.info/sct|816094009')}`, [1, 5]],
  [`dicom-class=${CT_IMAGE}`, [1, 3, 7]],
  [`series=${q(`urn:oid:${seriesUid(3, 1)}`)}`, [3]],
  [`uid=${instanceUid(6, 0)}`, [6]],
  [`study=${q(`urn:oid:${uid(2)}`)}`, [2]],
  [`patient=Patient/${patientId(P1)}`, [1, 2, 3]],
  [`patient:identifier=${q(`${P2.system}|${P2.value}`)}`, [4, 5, 6]],
  [`patient.identifier=${q(`${P1.system}|${P1.value}`)}`, [1, 2, 3]],
  ['order=ACC-4', [4]],
  [`endpoint=Endpoint/${ENDPOINT_ID}`, [1, 2, 3, 4, 5, 6, 7, 8]],
  ['started=2024-07-05', [1]],
  ['started=sa2024-07-05', [2, 5]],
  ['started=2024', [1, 2, 4, 5, 8]],
];

/** The data set's order by the low end of `started` (S6 undated). */
const BY_STARTED = [7, 3, 4, 8, 1, 2, 5].map(uid);

export function describeResourceIndexContract(name: string, factory: IndexFactory): void {
  describe(`ResourceIndex contract: ${name}`, () => {
    test('put replaces a resource and its index rows; remove deletes both; read returns the stored JSON', async () => {
      const { index, cleanup } = await factory({ fhirVersion: 'R4', timezone: TIMEZONE });
      const study = dataSet('R4').find((r) => r.id === uid(1))!;
      await index.put([study]);
      expect((await index.search('ImagingStudy', byModality('CT'))).total).toBe(1);
      const changed = { ...study, modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' }], series: [] };
      delete (changed as { id?: string }).id; // derived from the study UID
      await index.put([changed]);
      expect((await index.search('ImagingStudy', byModality('CT'))).total).toBe(0);
      expect((await index.search('ImagingStudy', byModality('MR'))).resources.map((r) => r.id)).toEqual([uid(1)]);
      expect(Object.keys((await index.read('ImagingStudy', uid(1)))!).slice(0, 2)).toEqual(['resourceType', 'id']);
      await index.remove('ImagingStudy', uid(1));
      expect(await index.read('ImagingStudy', uid(1))).toBeUndefined();
      expect((await index.search('ImagingStudy', byModality('MR'))).total).toBe(0);
      await cleanup();
    });

    test('a failing put changes nothing (one transaction)', async () => {
      const { index, cleanup } = await factory({ fhirVersion: 'R4' });
      const [a, b] = dataSet('R4').filter((r) => r.resourceType === 'ImagingStudy');
      await expect(index.put([a!, { resourceType: 'ImagingStudy', status: 'available' } as FhirResource, b!])).rejects.toThrow(/without id/);
      expect(await index.read('ImagingStudy', a!.id!)).toBeUndefined();
      await cleanup();
    });

    test('read: each type by id, the JSON as put; unknown ids and types are undefined; remove of an unknown id is a no-op', async () => {
      const { index, cleanup } = await factory({ fhirVersion: 'R4', timezone: TIMEZONE });
      const resources = dataSet('R4');
      await index.put(resources);
      for (const r of resources) expect(await index.read(r.resourceType, r.id!)).toEqual(r);
      expect(await index.read('ImagingStudy', 'nope')).toBeUndefined();
      expect(await index.read('Observation', uid(1))).toBeUndefined();
      expect(await index.read('Patient', uid(1))).toBeUndefined();
      await index.remove('ImagingStudy', 'nope');
      expect((await index.search('ImagingStudy', parse(''))).total).toBe(8);
      await cleanup();
    });

    describe('search over the R4 data set', () => {
      let sut: IndexUnderTest;
      beforeAll(async () => {
        sut = await factory({ fhirVersion: 'R4', timezone: TIMEZONE });
        await sut.index.put(dataSet('R4'));
      });
      afterAll(async () => {
        await sut.cleanup();
      });
      const find = (query: string) => sut.index.search('ImagingStudy', parse(query));

      test.each(R4_QUERIES)('%s', async (query, expected) => {
        const r = await find(`${query}&_count=1000`);
        expect(r.resources.map((x) => x.id).sort()).toEqual(ids(...expected));
        expect(r.total).toBe(expected.length);
        for (const x of r.resources) expect(x.resourceType).toBe('ImagingStudy');
      });

      test('a search at every SEARCH_LIMITS bound at once (most OR-ed values, AND-ed parameters, chained values)', async () => {
        const list = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i)).join(',');
        const query = [
          `modality=${list(SEARCH_LIMITS.orValues - 1, (i) => `NOPE${i}`)},CT`,
          `patient.identifier=${list(SEARCH_LIMITS.chainedValues - 1, (i) => q(`urn:none|${i}`))},${q(`${P1.system}|${P1.value}`)}`,
          `subject:identifier=${list(SEARCH_LIMITS.chainedValues - 1, (i) => `x${i}`)},${q(`${P1.system}|${P1.value}`)}`,
          ...Array.from({ length: SEARCH_LIMITS.andParameters - 3 }, (_, k) => `started=${list(SEARCH_LIMITS.orValues - 1, (i) => `19${String(i).padStart(2, '0')}`)},ge${2023 - k}`),
        ].join('&');
        const r = await find(`${query}&_sort=-started`);
        expect(r.resources.map((x) => x.id)).toEqual([uid(1), uid(3)]);
        expect(r.total).toBe(2);
      });

      test('token forms the parser does not produce: any token of a parameter, any code without a system', async () => {
        const search = (where: ParsedSearch['where']) => sut.index.search('ImagingStudy', { where, sort: [], count: 100, offset: 0 });
        expect((await search([[{ kind: 'token', param: 'modality' }]])).total).toBe(8);
        expect((await search([[{ kind: 'token', param: 'accession' }]])).resources.map((r) => r.id)).toEqual(ids(1, 2, 3, 4, 5, 6, 8));
        expect((await search([[{ kind: 'token', param: 'reason' }]])).total).toBe(0);
        expect((await search([[{ kind: 'token', param: 'patient', system: null }]])).total).toBe(8);
        expect((await search([[{ kind: 'token', param: 'accession', system: null }]])).total).toBe(7);
        expect((await search([[{ kind: 'token', param: 'modality', system: null }]])).total).toBe(0);
        expect((await search([[{ kind: 'chain', param: 'patient', target: { resourceType: 'Patient', param: 'identifier', system: P2.system } }]])).resources.map((r) => r.id)).toEqual(ids(4, 5, 6));
        expect((await search([[], [{ kind: 'id', id: uid(5) }]])).resources.map((r) => r.id)).toEqual([uid(5)]);
        expect((await search([[{ kind: 'token', param: 'identifier', code: 'S1' }]])).resources.map((r) => r.id)).toEqual([uid(1)]);
      });

      test('no parameter: every ImagingStudy, by id; other types are searched on their own', async () => {
        const r = await find('_count=1000');
        expect(r.total).toBe(8);
        expect(r.resources.map((x) => x.id)).toEqual(ALL.slice().sort());
        const patients = await sut.index.search('Patient', { where: [[{ kind: 'token', param: 'identifier', system: P1.system, code: P1.value }]], sort: [], count: 10, offset: 0 });
        expect(patients.resources.map((x) => x.id)).toEqual([patientId(P1)]);
        expect((await sut.index.search('Patient', parse(''))).total).toBe(3);
        expect((await sut.index.search('Endpoint', parse(''))).resources.map((x) => x.id)).toEqual([ENDPOINT_ID]);
      });

      test('_sort=started pages: _count/_offset windows of the same order; undated last', async () => {
        const pages: string[][] = [];
        for (let offset = 0; offset < 8; offset += 3) {
          const r = await find(`_sort=started&_count=3&_offset=${offset}`);
          expect(r.total).toBe(8);
          pages.push(r.resources.map((x) => x.id!));
        }
        expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
        expect(pages.flat()).toEqual([...BY_STARTED, uid(6)]);
        // A window that starts among the dated matches and ends among the undated ones.
        expect((await find('_sort=started&_count=3&_offset=6')).resources.map((x) => x.id)).toEqual([uid(5), uid(6)]);
        expect((await find('_sort=started&_count=1&_offset=7')).resources.map((x) => x.id)).toEqual([uid(6)]);
      });

      test('_sort=-started (undated last), _id, -_id, with a filter, paged', async () => {
        expect((await find('_sort=-started')).resources.map((x) => x.id)).toEqual([...BY_STARTED].reverse().concat(uid(6)));
        expect((await find('_sort=_id')).resources.map((x) => x.id)).toEqual(ALL.slice().sort());
        expect((await find('_sort=-_id&_count=3&_offset=2')).resources.map((x) => x.id)).toEqual(ALL.slice().sort().reverse().slice(2, 5));
        expect((await find('_sort=-_id,started')).resources.map((x) => x.id)).toEqual(ALL.slice().sort().reverse());
        expect((await find('modality=MR,CT&_sort=started')).resources.map((x) => x.id)).toEqual([uid(7), uid(3), uid(1), uid(2), uid(6)]);
        expect((await find('modality=MR,CT&_sort=-started&_count=2&_offset=3')).resources.map((x) => x.id)).toEqual([uid(7), uid(6)]);
        expect((await find('modality=MR&modality=MR&_sort=-started')).resources.map((x) => x.id)).toEqual([uid(2), uid(6)]);
        expect((await find('modality=CT&_sort=-_id')).resources.map((x) => x.id)).toEqual(ids(1, 3, 7).reverse());
      });

      test('count 0 (_summary=count): the total only; an offset past the end: the total, no resources', async () => {
        for (const [query, total] of [['modality=CT', 3], ['', 8], ['modality=CT&started=2024', 1], ['modality=XX&started=2024', 0]] as const) {
          const r = await sut.index.search('ImagingStudy', { ...parse(query), count: 0 });
          expect(r).toEqual({ total, resources: [] });
        }
        expect(await find('_offset=100')).toEqual({ total: 8, resources: [] });
        expect(await find('modality=CT&_offset=3')).toEqual({ total: 3, resources: [] });
        expect((await find('modality=CT&_offset=2&_sort=_id')).resources.map((x) => x.id)).toEqual([uid(7)]);
      });
    });

    describe('_sort ties and undated resources', () => {
      // Equal `started` low ends: a, c, e at 2024-01-01 (Paris midnight, as the date and the instant),
      // b at 2023; d and f without `started`.
      const study = (id: string, started?: string): FhirResource => ({
        resourceType: 'ImagingStudy',
        id,
        status: 'available',
        subject: { reference: 'Patient/x' },
        ...(started ? { started } : {}),
      });
      let sut: IndexUnderTest;
      beforeAll(async () => {
        sut = await factory({ fhirVersion: 'R4', timezone: TIMEZONE });
        await sut.index.put([
          study('e', '2024-01-01T00:00:00+01:00'),
          study('a', '2024-01-01'),
          study('f'),
          study('c', '2024-01-01T00:00:00+01:00'),
          study('b', '2023-06-01'),
          study('d'),
        ]);
      });
      afterAll(async () => {
        await sut.cleanup();
      });
      const order = async (query: string) => (await sut.index.search('ImagingStudy', parse(query))).resources.map((x) => x.id).join('');

      test.each([
        ['_sort=started', 'bacedf'],
        ['_sort=-started', 'acebdf'],
        ['_sort=started,-_id', 'becafd'],
        ['_sort=-started,-_id', 'ecabfd'],
        ['_sort=-started,_id', 'acebdf'],
        ['_sort=-_id', 'fedcba'],
        ['', 'abcdef'],
      ])('%s', async (query, expected) => {
        expect(await order(query)).toBe(expected);
      });

      test('paged windows of a tied order', async () => {
        const windows: string[] = [];
        for (let offset = 0; offset < 6; offset += 4) windows.push(await order(`_sort=-started,-_id&_count=4&_offset=${offset}`));
        expect(windows).toEqual(['ecab', 'fd']);
        expect(await order('patient=Patient/x&_sort=started&_count=2&_offset=3')).toBe('ed');
        expect(await order('started=2024-01-01&_sort=-started,-_id')).toBe('eca');
      });
    });

    describe.each([['R5'], ['STU3']] as const)('search over the %s data set', (version) => {
      let sut: IndexUnderTest;
      beforeAll(async () => {
        sut = await factory({ fhirVersion: version, timezone: TIMEZONE });
        await sut.index.put(dataSet(version));
      });
      afterAll(async () => {
        await sut.cleanup();
      });

      test.each(COMMON_QUERIES)('%s', async (query, expected) => {
        const r = await sut.index.search('ImagingStudy', parse(query, version));
        expect(r.resources.map((x) => x.id).sort()).toEqual(ids(...expected));
        expect(r.total).toBe(expected.length);
      });

      test('identifier: the study UID in R5, only the other identifiers in STU3', async () => {
        const r = await sut.index.search('ImagingStudy', parse(`identifier=${q(`urn:dicom:uid|urn:oid:${uid(4)}`)}`, version));
        expect(r.resources.map((x) => x.id)).toEqual(version === 'R5' ? [uid(4)] : []);
        expect((await sut.index.search('ImagingStudy', parse('identifier=S7', version))).resources.map((x) => x.id)).toEqual([uid(7)]);
        expect((await sut.index.search('ImagingStudy', parse('_sort=-started', version))).resources.map((x) => x.id)).toEqual([...BY_STARTED].reverse().concat(uid(6)));
      });
    });
  });
}
