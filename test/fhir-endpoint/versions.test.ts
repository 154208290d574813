/**
 * R5 and STU3: the same search semantics over what the mapping produced in
 * those versions (terms indexed from each version's element names).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { assertStu3ImagingStudyShape, validateR5 } from '../support/fhir-validate.js';
import { ENDPOINT_ID, entryIds, ids, serve, uid, type Served } from './data-set.js';
import { COMMON_QUERIES } from './index-contract.js';

const q = encodeURIComponent;



describe('R5', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve('R5');
  });
  afterAll(async () => {
    await s.close();
  });

  test.each(COMMON_QUERIES)('%s', async (query, expected) => {
    const r = await s.get(`/fhir/ImagingStudy?${query}`);
    expect(r.status).toBe(200);
    expect(validateR5(r.body)).toEqual([]);
    expect(entryIds(r.body)).toEqual(ids(...expected));
  });

  test('identifier and status, _elements, metadata 5.0.0; every Bundle page validates as R5', async () => {
    expect(entryIds((await s.get(`/fhir/ImagingStudy?identifier=${q(`urn:dicom:uid|urn:oid:${uid(4)}`)}&status=available`)).body)).toEqual(ids(4));
    const sub = await s.get('/fhir/ImagingStudy?_elements=started&_count=3&_sort=started');
    expect(validateR5(sub.body)).toEqual([]);
    expect(sub.body.link.map((l: any) => l.relation)).toEqual(['self', 'next']);
    expect(Object.keys(sub.body.entry[0].resource)).toEqual(['resourceType', 'id', 'meta', 'status', 'subject', 'started']);
    const meta = await s.get('/fhir/metadata');
    expect(meta.body.fhirVersion).toBe('5.0.0');
    expect(validateR5(meta.body)).toEqual([]);
    const endpoint = await s.get(`/fhir/Endpoint/${ENDPOINT_ID}`);
    expect(validateR5(endpoint.body)).toEqual([]);
    const outcome = await s.get('/fhir/ImagingStudy?nope=1');
    expect(outcome.status).toBe(400);
    expect(validateR5(outcome.body)).toEqual([]);
  });
});

describe('STU3', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve('STU3');
  });
  afterAll(async () => {
    await s.close();
  });

  test.each(COMMON_QUERIES)('%s', async (query, expected) => {
    const r = await s.get(`/fhir/ImagingStudy?${query}`);
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('searchset');
    for (const e of r.body.entry ?? []) expect(assertStu3ImagingStudyShape(e.resource)).toEqual([]);
    expect(entryIds(r.body)).toEqual(ids(...expected));
  });

  test('status does not exist in STU3 (400); identifier is only the other identifiers; metadata 3.0.2', async () => {
    expect((await s.get('/fhir/ImagingStudy?status=available')).status).toBe(400);
    expect(entryIds((await s.get('/fhir/ImagingStudy?identifier=S7')).body)).toEqual(ids(7));
    expect(entryIds((await s.get(`/fhir/ImagingStudy?identifier=${q(`urn:dicom:uid|urn:oid:${uid(4)}`)}`)).body)).toEqual([]);
    const sub = await s.get(`/fhir/ImagingStudy?_id=${uid(1)}&_elements=started`);
    const res = sub.body.entry[0].resource;
    expect(Object.keys(res)).toEqual(['resourceType', 'id', 'meta', 'uid', 'patient', 'started', 'numberOfSeries', 'numberOfInstances']);
    expect(res.meta.tag[0].code).toBe('SUBSETTED');
    const meta = await s.get('/fhir/metadata');
    expect(meta.body.fhirVersion).toBe('3.0.2');
    expect(meta.body.acceptUnknown).toBe('no');
    expect(meta.body.rest[0].resource[0].searchParam.map((p: any) => p.name)).not.toContain('status');
  });
});
