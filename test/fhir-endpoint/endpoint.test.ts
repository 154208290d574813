/**
 * The storyboard, over real HTTP: a family physician's EHR asks the bridge
 * for every ImagingStudy of one patient and gets each study's date,
 * procedure, modality, accession number and the WADO-RS Endpoint; then
 * reads the Patient and the Endpoint. Plus metadata, reads, 404, 405, 401.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { patientId } from '../../src/fhir/resource-ids.js';
import { validateR4 } from '../support/fhir-validate.js';
import { ENDPOINT_ID, P1, serve, uid, type Served } from './data-set.js';

let s: Served;
beforeAll(async () => {
  s = await serve('R4');
});
afterAll(async () => {
  await s.close();
});

const ACSN = 'http://terminology.hl7.org/CodeSystem/v2-0203';

test('storyboard: all studies of one patient, with date, procedure, modality, accession and WADO-RS endpoint', async () => {
  const query = `patient.identifier=${encodeURIComponent(`${P1.system}|${P1.value}`)}&_sort=-started`;
  const { status, type, body } = await s.get(`/fhir/ImagingStudy?${query}`);
  expect(status).toBe(200);
  expect(type).toBe('application/fhir+json; charset=utf-8');
  expect(validateR4(body)).toEqual([]);
  expect(body.total).toBe(3);
  const studies = body.entry.map((e: any) => e.resource);
  const summary = studies.map((st: any) => ({
    id: st.id,
    started: st.started,
    procedure: st.procedureCode?.[0]?.text,
    modality: st.modality.map((m: any) => m.code).sort(),
    accession: st.identifier.find((i: any) => i.type?.coding?.some((c: any) => c.system === ACSN && c.code === 'ACSN'))?.value,
    endpoint: st.endpoint[0].reference,
  }));
  expect(summary).toEqual([
    { id: uid(2), started: '2024-07-06', procedure: 'MR Head', modality: ['MR'], accession: 'ACC-2', endpoint: `Endpoint/${ENDPOINT_ID}` },
    { id: uid(1), started: '2024-07-05T14:30:00+09:00', procedure: 'CT Chest', modality: ['CT'], accession: 'ACC-1', endpoint: `Endpoint/${ENDPOINT_ID}` },
    { id: uid(3), started: '2023-12-31T23:30:00+01:00', procedure: undefined, modality: ['CT', 'PT'], accession: 'ACC-3', endpoint: `Endpoint/${ENDPOINT_ID}` },
  ]);

  // The same answer by the Patient's logical id (deterministic from its identifier).
  const byId = await s.get(`/fhir/ImagingStudy?patient=Patient/${patientId(P1)}&_sort=-started`);
  expect(byId.body.entry.map((e: any) => e.resource.id)).toEqual([uid(2), uid(1), uid(3)]);

  // Follow the endpoint reference: the WADO-RS base URL.
  const endpoint = await s.get(`/fhir/${studies[0].endpoint[0].reference}`);
  expect(endpoint.status).toBe(200);
  expect(validateR4(endpoint.body)).toEqual([]);
  expect(endpoint.body.connectionType.code).toBe('dicom-wado-rs');
  expect(endpoint.body.address).toBe('https://pacs.example/dicomweb');

  // Read the Patient.
  const patient = await s.get(`/fhir/Patient/${patientId(P1)}`);
  expect(patient.status).toBe(200);
  expect(validateR4(patient.body)).toEqual([]);
  expect(patient.body.identifier[0]).toMatchObject({ system: P1.system, value: P1.value });
  expect(patient.body.name[0].family).toBe('Martin');
});

test('read ImagingStudy by its Study Instance UID', async () => {
  const r = await s.get(`/fhir/ImagingStudy/${uid(4)}`);
  expect(r.status).toBe(200);
  expect(r.body.id).toBe(uid(4));
  expect(validateR4(r.body)).toEqual([]);
});

test('metadata: a CapabilityStatement listing exactly what is supported', async () => {
  const r = await s.get('/fhir/metadata');
  expect(r.status).toBe(200);
  expect(r.type).toBe('application/fhir+json; charset=utf-8');
  expect(validateR4(r.body)).toEqual([]);
  expect(r.body.fhirVersion).toBe('4.0.1');
  expect(r.body.format).toContain('json');
  const resources = r.body.rest[0].resource;
  expect(resources.map((x: any) => [x.type, x.interaction.map((i: any) => i.code)])).toEqual([
    ['ImagingStudy', ['read', 'search-type']],
    ['Patient', ['read']],
    ['Endpoint', ['read']],
  ]);
  const names = resources[0].searchParam.map((p: any) => p.name).sort();
  expect(names).toEqual(
    ['_id', 'accession', 'basedon', 'bodysite', 'dicom-class', 'endpoint', 'identifier', 'instance', 'modality', 'order', 'patient', 'reason', 'series', 'started', 'status', 'study', 'subject', 'uid'].sort(),
  );
  expect(resources[0].searchParam.find((p: any) => p.name === 'started').type).toBe('date');
});

describe('errors are OperationOutcomes', () => {
  test.each([
    ['/fhir/Observation/1', 404],
    ['/fhir/ImagingStudy/1.2.3.404', 404],
    ['/fhir/Patient/p-none', 404],
    ['/fhir/ImagingStudy/' + uid(1) + '/_history', 404],
    ['/fhir/Patient?name=x', 400],
  ])('GET %s → %i', async (path, status) => {
    const r = await s.get(path);
    expect(r.status).toBe(status);
    expect(r.type).toBe('application/fhir+json; charset=utf-8');
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(validateR4(r.body)).toEqual([]);
  });

  test.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s → 405, nothing written', async (method) => {
    const res = await fetch(`${s.url}/fhir/ImagingStudy/${uid(1)}`, {
      method,
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'ImagingStudy', id: uid(1), status: 'cancelled' }),
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect((await s.index.read('ImagingStudy', uid(1)))?.status).toBe('available');
  });
});

test('paths outside /fhir are left to the caller', async () => {
  const res = await fetch(`${s.url}/studies`);
  expect(res.status).toBe(404);
  expect(await res.text()).toBe('');
});

describe('bearer token', () => {
  let secured: Served;
  beforeAll(async () => {
    secured = await serve('R4', { bearerToken: 's3cret-token' });
  });
  afterAll(async () => {
    await secured.close();
  });

  test('without or with a wrong token: 401 OperationOutcome; with it: 200', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic czNjcmV0LXRva2Vu' }, { authorization: 'Bearer s3cret-token-and-more' }] as Array<Record<string, string>>) {
      const r = await secured.get(`/fhir/ImagingStudy/${uid(1)}`, headers);
      expect(r.status).toBe(401);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].code).toBe('login');
    }
    const ok = await secured.get(`/fhir/ImagingStudy/${uid(1)}`, { authorization: 'Bearer s3cret-token' });
    expect(ok.status).toBe(200);
    const post = await fetch(`${secured.url}/fhir/ImagingStudy`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(401);
  });
});
