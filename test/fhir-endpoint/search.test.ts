/**
 * ImagingStudy search over real HTTP (R4): every parameter, every `started`
 * prefix, token forms, AND/OR, paging, _summary=count, _elements, _sort,
 * unknown parameters (400 vs Prefer: handling=lenient), R4 validation of
 * every Bundle.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { patientId } from '../../src/fhir/resource-ids.js';
import { validateR4 } from '../support/fhir-validate.js';
import {
  ALL,
  CT_IMAGE,
  ENDPOINT_ID,
  entryIds,
  ids,
  instanceUid,
  MR_IMAGE,
  P1,
  P2,
  P3,
  serve,
  seriesUid,
  uid,
  type Served,
} from './data-set.js';

let s: Served;
beforeAll(async () => {
  s = await serve('R4');
});
afterAll(async () => {
  await s.close();
});

const q = encodeURIComponent;

/** GET ImagingStudy?query: a valid R4 searchset Bundle; the sorted ids of its entries. */
async function search(query: string): Promise<string[]> {
  const { status, type, body } = await s.get(`/fhir/ImagingStudy?${query}`);
  expect(status, JSON.stringify(body)).toBe(200);
  expect(type).toBe('application/fhir+json; charset=utf-8');
  expect(body.resourceType).toBe('Bundle');
  expect(body.type).toBe('searchset');
  expect(validateR4(body)).toEqual([]);
  expect(body.total).toBe((body.entry ?? []).length);
  return entryIds(body);
}

describe('token parameters', () => {
  test('identifier: system|value of the Study Instance UID, value only, |value (no system)', async () => {
    expect(await search(`identifier=${q(`urn:dicom:uid|urn:oid:${uid(4)}`)}`)).toEqual(ids(4));
    expect(await search(`identifier=${q(`urn:oid:${uid(4)}`)}`)).toEqual(ids(4));
    expect(await search(`identifier=${q('|S7')}`)).toEqual(ids(7));
    expect(await search(`identifier=${q('urn:dicom:uid|')}`)).toEqual(ALL.slice().sort());
    expect(await search(`identifier=${q('urn:other|S7')}`)).toEqual([]);
  });

  test('accession (identifier of type ACSN), comma = OR', async () => {
    expect(await search('accession=ACC-5')).toEqual(ids(5));
    expect(await search(`accession=${q('|ACC-5')}`)).toEqual(ids(5));
    expect(await search('accession=ACC-1,ACC-8,NOPE')).toEqual(ids(1, 8));
    expect(await search('accession=S1')).toEqual([]); // a study ID is not an accession
  });

  test('modality: code, system|code, study with two modalities; repeated = AND', async () => {
    expect(await search('modality=CT')).toEqual(ids(1, 3, 7));
    expect(await search(`modality=${q('http://dicom.nema.org/resources/ontology/DCM|MR')}`)).toEqual(ids(2, 6));
    expect(await search(`modality=${q('http://wrong.example|MR')}`)).toEqual([]);
    expect(await search('modality=PT&modality=CT')).toEqual(ids(3));
    expect(await search('modality=US,MG')).toEqual(ids(4, 8));
  });

  test('bodysite (SNOMED CT)', async () => {
    expect(await search('bodysite=816094009')).toEqual(ids(1, 5)); // chest
    expect(await search(`bodysite=${q('http://snomed.info/sct|69536005')}`)).toEqual(ids(2, 7)); // head
  });

  test('dicom-class: OID, urn:oid: form, system|code', async () => {
    expect(await search(`dicom-class=${CT_IMAGE}`)).toEqual(ids(1, 3, 7));
    expect(await search(`dicom-class=${q(`urn:oid:${MR_IMAGE}`)}`)).toEqual(ids(2, 6));
    expect(await search(`dicom-class=${q(`urn:ietf:rfc:3986|urn:oid:${MR_IMAGE}`)}`)).toEqual(ids(2, 6));
  });

  test('series, instance and uid (instance UID), study: plain and urn:oid:', async () => {
    expect(await search(`series=${seriesUid(3, 1)}`)).toEqual(ids(3));
    expect(await search(`series=${q(`urn:oid:${seriesUid(3, 0)}`)}`)).toEqual(ids(3));
    expect(await search(`instance=${instanceUid(5, 0)}`)).toEqual(ids(5));
    expect(await search(`uid=${q(`urn:oid:${instanceUid(6, 0)}`)}`)).toEqual(ids(6));
    expect(await search(`study=${q(`urn:oid:${uid(2)}`)}`)).toEqual(ids(2));
    expect(await search(`study=${uid(2)},${uid(8)}`)).toEqual(ids(2, 8));
    expect(await search(`_id=${uid(7)}`)).toEqual(ids(7));
  });

  test('status', async () => {
    expect(await search('status=available')).toEqual(ALL.slice().sort());
    expect(await search(`status=${q('http://hl7.org/fhir/imagingstudy-status|available')}`)).toHaveLength(8);
    expect(await search('status=cancelled')).toEqual([]);
  });
});

describe('reference parameters', () => {
  const p1 = patientId(P1);
  test('patient=Patient/<id>, patient=<id>, absolute URL, subject alias', async () => {
    expect(await search(`patient=Patient/${p1}`)).toEqual(ids(1, 2, 3));
    expect(await search(`patient=${p1}`)).toEqual(ids(1, 2, 3));
    expect(await search(`patient=${q(`${s.url}/fhir/Patient/${patientId(P3)}`)}`)).toEqual(ids(7, 8));
    expect(await search(`subject=Patient/${patientId(P2)}`)).toEqual(ids(4, 5, 6));
    expect(await search(`subject:Patient=${patientId(P2)}`)).toEqual(ids(4, 5, 6));
    expect(await search('patient=Patient/unknown')).toEqual([]);
  });

  test('patient:identifier and the chain patient.identifier', async () => {
    expect(await search(`patient:identifier=${q(`${P2.system}|${P2.value}`)}`)).toEqual(ids(4, 5, 6));
    expect(await search(`patient.identifier=${q(`${P1.system}|${P1.value}`)}`)).toEqual(ids(1, 2, 3));
    expect(await search(`patient.identifier=${q(P3.value)}`)).toEqual(ids(7, 8));
    expect(await search(`patient.identifier=${q(`${P1.system}|${P2.value}`)}`)).toEqual([]);
  });

  test('basedon:identifier and order (the accession-based ServiceRequest identifier), endpoint', async () => {
    expect(await search('basedon:identifier=ACC-4')).toEqual(ids(4));
    expect(await search('order=ACC-4,ACC-6')).toEqual(ids(4, 6));
    expect(await search('basedon=ServiceRequest/none')).toEqual([]);
    expect(await search(`endpoint=Endpoint/${ENDPOINT_ID}`)).toHaveLength(8);
  });

  test('AND across parameters', async () => {
    expect(await search(`patient=Patient/${p1}&modality=CT&started=ge2024`)).toEqual(ids(1));
  });
});

describe('started: prefixes, partial dates, timezones', () => {
  // Site timezone Europe/Paris: the day 2024-07-05 is [07-04T22:00Z, 07-05T22:00Z).
  test.each([
    ['2024-07-05', [1]],
    ['eq2024-07-05', [1]],
    ['ne2024-07-05', [2, 3, 4, 5, 7, 8]],
    ['lt2024-07-05', [3, 4, 7, 8]],
    ['le2024-07-05', [1, 3, 4, 7, 8]],
    ['gt2024-07-05', [2, 5]],
    ['ge2024-07-05', [1, 2, 5]],
    ['sa2024-07-05', [2, 5]],
    ['eb2024-07-05', [3, 4, 7, 8]],
  ])('started=%s', async (value, expected) => {
    expect(await search(`started=${value}`)).toEqual(ids(...expected));
  });

  // The date-only S2 (the Paris day 2024-07-06) straddles noon UTC: gt/lt overlap it, sa/eb do not.
  test.each([
    ['gt2024-07-06T12:00:00Z', [2]],
    ['sa2024-07-06T12:00:00Z', []],
    ['lt2024-07-06T12:00:00Z', [1, 2, 3, 4, 5, 7, 8]],
    ['eb2024-07-06T12:00:00Z', [1, 3, 4, 5, 7, 8]],
    ['ge2024-07-06T12:00:00Z', [2]],
    ['le2024-07-06T12:00:00Z', [1, 2, 3, 4, 5, 7, 8]],
  ])('a date-only value is a range: started=%s', async (value, expected) => {
    expect(await search(`started=${q(value)}`)).toEqual(ids(...expected));
  });

  test('partial dates: year, month, leap day', async () => {
    expect(await search('started=2024')).toEqual(ids(1, 2, 4, 5, 8));
    expect(await search('started=2023')).toEqual(ids(3)); // 2023-12-31T23:30+01:00 is still 2023 in Paris
    expect(await search('started=2024-07')).toEqual(ids(1, 2, 5));
    expect(await search('started=2024-02-29')).toEqual(ids(8));
    expect(await search('started=ge2022&started=lt2023')).toEqual(ids(7));
  });

  test('instants compare across offsets; a value without offset is in the server timezone', async () => {
    expect(await search(`started=${q('2024-07-05T23:30:00Z')}`)).toEqual(ids(5));
    expect(await search(`started=${q('2024-07-06T01:30:00+02:00')}`)).toEqual(ids(5));
    expect(await search(`started=${q('2024-07-06T01:30:00')}`)).toEqual(ids(5)); // Paris summer time
    expect(await search(`started=${q('2024-07-05T07:30+02:00')}`)).toEqual(ids(1)); // minute precision
    expect(await search(`started=${q('2024-01-15T15:00:00Z')}`)).toEqual(ids(4)); // 10:00-05:00
  });

  test('a malformed date is a 400 OperationOutcome, lenient or not', async () => {
    for (const headers of [{}, { prefer: 'handling=lenient' }] as Array<Record<string, string>>) {
      const r = await s.get('/fhir/ImagingStudy?started=2024-02-30', headers);
      expect(r.status).toBe(400);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(validateR4(r.body)).toEqual([]);
    }
    expect((await s.get('/fhir/ImagingStudy?started=xx2024')).status).toBe(400);
  });
});

describe('results: paging, _sort, _summary, _elements', () => {
  test('_count pages through every match with next links; the last page has none', async () => {
    let path: string | undefined = '/fhir/ImagingStudy?_count=3&_sort=started';
    const seen: string[] = [];
    const pages: number[] = [];
    while (path) {
      const r = await s.get(path);
      expect(r.status).toBe(200);
      expect(validateR4(r.body)).toEqual([]);
      expect(r.body.total).toBe(8);
      const self = r.body.link.find((l: any) => l.relation === 'self');
      expect(self.url).toContain('_count=3');
      pages.push(r.body.entry.length);
      for (const e of r.body.entry) {
        expect(e.search).toEqual({ mode: 'match' });
        expect(e.fullUrl).toBe(`http://${new URL(s.url).host}/fhir/ImagingStudy/${e.resource.id}`);
        seen.push(e.resource.id);
      }
      const next = r.body.link.find((l: any) => l.relation === 'next');
      path = next ? next.url.slice(s.url.length) : undefined;
    }
    expect(pages).toEqual([3, 3, 2]);
    // Sort key: the start of the range (the date-only S2 starts at Paris midnight, before S5's 23:30Z).
    expect(seen).toEqual([uid(7), uid(3), uid(4), uid(8), uid(1), uid(2), uid(5), uid(6)]);
  });

  test('_sort=-started (undated last), _sort=_id, default _count 50 and the 1000 cap', async () => {
    const r = await s.get('/fhir/ImagingStudy?_sort=-started');
    expect(r.body.entry.map((e: any) => e.resource.id)).toEqual([uid(5), uid(2), uid(1), uid(8), uid(4), uid(3), uid(7), uid(6)]);
    expect(r.body.link.find((l: any) => l.relation === 'self').url).toContain('_count=50');
    const byId = await s.get('/fhir/ImagingStudy?_sort=-_id&_count=5000');
    expect(byId.body.entry.map((e: any) => e.resource.id)).toEqual(ALL.slice().sort().reverse());
    expect(byId.body.link.find((l: any) => l.relation === 'self').url).toContain('_count=1000');
  });

  test('_summary=count: total only', async () => {
    const r = await s.get('/fhir/ImagingStudy?modality=CT&_summary=count');
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(3);
    expect(r.body.entry).toBeUndefined();
    expect(r.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
    expect(validateR4(r.body)).toEqual([]);
  });

  test('_elements keeps the listed elements, id, meta and mandatory ones, tagged SUBSETTED', async () => {
    const r = await s.get(`/fhir/ImagingStudy?_id=${uid(1)}&_elements=started,modality`);
    expect(validateR4(r.body)).toEqual([]);
    const res = r.body.entry[0].resource;
    expect(Object.keys(res)).toEqual(['resourceType', 'id', 'meta', 'status', 'modality', 'subject', 'started']);
    expect(res.meta.tag).toContainEqual({ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' });
    expect(res.series).toBeUndefined();
  });

  test('_offset past the end: total, no entries', async () => {
    const r = await s.get('/fhir/ImagingStudy?_offset=100');
    expect(r.body.total).toBe(8);
    expect(r.body.entry).toBeUndefined();
  });

  test('bad _count is a 400', async () => {
    expect((await s.get('/fhir/ImagingStudy?_count=-1')).status).toBe(400);
    expect((await s.get('/fhir/ImagingStudy?_count=ten')).status).toBe(400);
  });
});

describe('unknown parameters', () => {
  test('400 OperationOutcome by default', async () => {
    for (const query of ['foo=bar', 'modality:text=CT', 'patient.name=Martin', '_include=ImagingStudy:endpoint', '_summary=text', '_sort=description']) {
      const r = await s.get(`/fhir/ImagingStudy?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].code).toBe('invalid');
      expect(validateR4(r.body)).toEqual([]);
    }
  });

  test('Prefer: handling=lenient ignores them and leaves them out of the self link', async () => {
    const r = await s.get('/fhir/ImagingStudy?foo=bar&modality=MR&_include=x', { prefer: 'handling=lenient' });
    expect(r.status).toBe(200);
    expect(entryIds(r.body)).toEqual(ids(2, 6));
    const self = r.body.link.find((l: any) => l.relation === 'self').url as string;
    expect(self).toContain('modality=MR');
    expect(self).not.toContain('foo');
    expect(self).not.toContain('_include');
    expect(validateR4(r.body)).toEqual([]);
  });
});
