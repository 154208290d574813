import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFhirServer, type TestFhirServer } from './fhir-server.js';

const STUDY_UID = '1.2.826.0.1.3680043.8.498.1';
const IDENT = `urn:dicom:uid|urn:oid:${STUDY_UID}`;

function imagingStudy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'ImagingStudy',
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${STUDY_UID}` }],
    status: 'available',
    subject: { reference: 'Patient/p1' },
    started: '2024-03-01T10:20:30Z',
    modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' }],
    numberOfSeries: 1,
    numberOfInstances: 1,
    series: [
      {
        uid: '1.2.826.0.1.3680043.8.498.2',
        number: 1,
        modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' },
        bodySite: { system: 'http://snomed.info/sct', code: '51185008', display: 'Chest' },
        numberOfInstances: 1,
        instance: [
          {
            uid: '1.2.826.0.1.3680043.8.498.3',
            sopClass: { system: 'urn:ietf:rfc:3986', code: 'urn:oid:1.2.840.10008.5.1.4.1.1.2' },
            number: 1,
          },
        ],
      },
    ],
    ...overrides,
  };
}

async function send(server: TestFhirServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.baseUrl}/${path}`, {
    method,
    headers: { 'content-type': 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

describe('test FHIR server (Medplum engine)', () => {
  let server: TestFhirServer;
  beforeAll(async () => {
    server = await startFhirServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  it('answers /metadata with an R4 CapabilityStatement that allows conditional update of ImagingStudy', async () => {
    const res = await send(server, 'GET', 'metadata');
    expect(res.status).toBe(200);
    expect(res.json.resourceType).toBe('CapabilityStatement');
    expect(res.json.fhirVersion).toBe('4.0.1');
    const is = res.json.rest[0].resource.find((r: { type: string }) => r.type === 'ImagingStudy');
    expect(is.conditionalUpdate).toBe(true);
    // the statement itself passes the same R4 validation as every write
    expect((await send(server, 'POST', 'CapabilityStatement', res.json)).status).toBe(201);
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fhir\/R4$/);
  });

  it('creates a valid R4 ImagingStudy (201) that is then found by identifier', async () => {
    const res = await send(server, 'POST', 'ImagingStudy', imagingStudy());
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toContain(`${server.baseUrl}/ImagingStudy/${res.json.id}/_history/`);
    expect(res.headers.get('etag')).toBe(`W/"${res.json.meta.versionId}"`);
    const found = await server.search(`ImagingStudy?identifier=${encodeURIComponent(IDENT)}`);
    expect(found.resourceType).toBe('Bundle');
    expect(found.entry).toHaveLength(1);
    expect(found.entry[0].resource.series[0].instance[0].uid).toBe('1.2.826.0.1.3680043.8.498.3');
    expect(server.writeCount()).toBe(1);
    expect(server.writeCount('ImagingStudy')).toBe(1);
    expect(server.writeCount('Patient')).toBe(0);
    // search() is a helper: not recorded
    expect(server.requests.map((r) => [r.method, r.status])).toEqual([['POST', 201]]);
  });

  it('conditional update: none matches → 201 create, one matches → 200 update, two match → 412', async () => {
    const q = `ImagingStudy?identifier=${encodeURIComponent(IDENT)}`;
    const first = await send(server, 'PUT', q, imagingStudy());
    expect(first.status).toBe(201);
    const second = await send(server, 'PUT', q, imagingStudy({ numberOfInstances: 2, description: 'updated' }));
    expect(second.status).toBe(200);
    expect(second.json.id).toBe(first.json.id);
    expect(second.json.meta.versionId).not.toBe(first.json.meta.versionId);
    const found = await server.search(q);
    expect(found.entry).toHaveLength(1);
    expect(found.entry[0].resource.description).toBe('updated');

    expect((await send(server, 'POST', 'ImagingStudy', imagingStudy())).status).toBe(201);
    const ambiguous = await send(server, 'PUT', q, imagingStudy());
    expect(ambiguous.status).toBe(412);
    expect(server.writeCount('ImagingStudy')).toBe(3);
    expect(server.requests.at(-1)).toMatchObject({ method: 'PUT', status: 412 });
    expect(server.requests.at(-1)?.url).toBe(`/fhir/R4/${q}`);
  });

  it('rejects a code value that is not in the R4 value set (status: bogus) with 400 + OperationOutcome', async () => {
    const res = await send(server, 'POST', 'ImagingStudy', imagingStudy({ status: 'bogus' }));
    expect(res.status).toBe(400);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.json.issue)).toContain('ImagingStudy.status');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', status: 400, body: { status: 'bogus' } });
    expect(server.writeCount()).toBe(0);
    expect((await server.search('ImagingStudy')).entry ?? []).toHaveLength(0);
  });

  it('rejects an ImagingStudy without the required subject (400), also on conditional update', async () => {
    const { subject: _subject, ...noSubject } = imagingStudy();
    const res = await send(server, 'PUT', `ImagingStudy?identifier=${encodeURIComponent(IDENT)}`, noSubject);
    expect(res.status).toBe(400);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.json.issue)).toMatch(/subject/);
  });

  it('rejects unknown elements and wrong types', async () => {
    const res = await send(server, 'POST', 'ImagingStudy', imagingStudy({ numberOfSeries: 'one', seriesCount: 1 }));
    expect(res.status).toBe(400);
    const text = JSON.stringify(res.json.issue);
    expect(text).toContain('numberOfSeries');
    expect(text).toContain('seriesCount');
  });

  it('honours If-Match (stale version → 412) and If-None-Exist (no duplicate)', async () => {
    const created = await send(server, 'POST', 'ImagingStudy', imagingStudy());
    const id = created.json.id as string;
    const v1 = created.json.meta.versionId as string;
    const upd = await send(server, 'PUT', `ImagingStudy/${id}`, { ...imagingStudy(), id }, { 'if-match': `W/"${v1}"` });
    expect(upd.status).toBe(200);
    const stale = await send(server, 'PUT', `ImagingStudy/${id}`, { ...imagingStudy(), id }, { 'if-match': `W/"${v1}"` });
    expect(stale.status).toBe(412);

    const again = await send(server, 'POST', 'ImagingStudy', imagingStudy(), { 'if-none-exist': `identifier=${IDENT}` });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(id);
    expect((await server.search(`ImagingStudy?identifier=${encodeURIComponent(IDENT)}`)).entry).toHaveLength(1);
  });

  it('runs a transaction with a urn:uuid reference from ImagingStudy to a new Patient', async () => {
    const patientUrn = 'urn:uuid:0b6a3c7e-8a58-4a5b-9c7e-2f0d1e0a1b2c';
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: patientUrn,
          resource: { resourceType: 'Patient', identifier: [{ system: 'urn:example:mrn', value: 'MRN1' }], name: [{ family: 'Doe', given: ['Jane'] }] },
          request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:example:mrn|MRN1' },
        },
        {
          resource: imagingStudy({ subject: { reference: patientUrn } }),
          request: { method: 'PUT', url: `ImagingStudy?identifier=${encodeURIComponent(IDENT)}` },
        },
      ],
    };
    const res = await send(server, 'POST', '', bundle);
    expect(res.status).toBe(200);
    expect(res.json.type).toBe('transaction-response');
    expect(res.json.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201', '201']);
    const study = (await server.search(`ImagingStudy?identifier=${encodeURIComponent(IDENT)}`)).entry[0].resource;
    const patient = (await server.search('Patient?identifier=urn:example:mrn|MRN1')).entry[0].resource;
    expect(study.subject.reference).toBe(`Patient/${patient.id}`);
    expect(server.writeCount()).toBe(1);
    expect(server.writeCount('ImagingStudy')).toBe(1);
    expect(server.writeCount('Patient')).toBe(1);

    // the same transaction again: Patient matched (200), ImagingStudy updated (200), nothing duplicated
    const again = await send(server, 'POST', '', bundle);
    expect(again.json.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['200', '200']);
    expect((await server.search('Patient')).entry).toHaveLength(1);
  });

  it('rejects a transaction whose entry is invalid, writing nothing', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', name: [{ family: 'Doe' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: imagingStudy({ status: 'bogus' }), request: { method: 'POST', url: 'ImagingStudy' } },
      ],
    };
    const res = await send(server, 'POST', '', bundle);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json.issue)).toContain('entry[1]');
    expect((await server.search('Patient')).entry ?? []).toHaveLength(0);
  });

  it('injects faults: failNextWrites answers the given status with Retry-After, then recovers', async () => {
    server.faults = { failNextWrites: { count: 2, status: 503, retryAfterSeconds: 7 } };
    const a = await send(server, 'POST', 'ImagingStudy', imagingStudy());
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('7');
    expect((await send(server, 'GET', 'metadata')).status).toBe(200); // reads are not affected
    expect((await send(server, 'POST', 'ImagingStudy', imagingStudy())).status).toBe(503);
    expect((await send(server, 'POST', 'ImagingStudy', imagingStudy())).status).toBe(201);
    expect(server.writeCount('ImagingStudy')).toBe(1);
    expect(server.requests.map((r) => r.status)).toEqual([503, 200, 503, 201]);
  });
});
