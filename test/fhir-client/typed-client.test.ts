/**
 * The client's methods are generic in the resource type: typed resources of
 * src/fhir/ go in without casts and come back typed, against the in-process
 * Medplum R4 server (which validates every write against the R4 schema).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { FhirClient } from '../../src/fhir-client/fhir-client.js';
import { endpointIdentifierQuery, mapEndpoint } from '../../src/fhir/map-endpoint.js';
import { conditionalUpdateQuery, mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import { mapPatient } from '../../src/fhir/map-patient.js';
import type { Bundle } from '../../src/fhir/types/bundle.js';
import type * as R4 from '../../src/fhir/types/r4.js';
import type { FhirResource } from '../../src/fhir/types/resource.js';
import { fullStudy, options, STUDY_UID } from '../fhir/fixtures.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';

let fhir: TestFhirServer;
let client: FhirClient;

beforeAll(async () => {
  fhir = await startFhirServer();
  client = new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000 });
});
afterAll(async () => {
  await fhir?.close();
});
beforeEach(() => fhir.reset());

const R4_OPTIONS = { ...options(), fhirVersion: 'R4' as const };
const DICOMWEB = 'https://pacs.example.org/dicom-web';

describe('typed FhirClient', () => {
  it('create, read and search an Endpoint as R4.Endpoint', async () => {
    const endpoint = mapEndpoint(DICOMWEB, 'R4');
    const created = await client.create('Endpoint', endpoint, { ifNoneExist: endpointIdentifierQuery(DICOMWEB) });
    expectTypeOf(created.resource).toEqualTypeOf<R4.Endpoint | undefined>();
    expect(created.status).toBe(201);
    const id = created.resource!.id!;

    const read = await client.read<R4.Endpoint>('Endpoint', id);
    expectTypeOf(read.resource!.address).toEqualTypeOf<string>();
    expect(read.resource!.address).toBe(DICOMWEB);

    const found = await client.search<R4.Endpoint>('Endpoint', endpointIdentifierQuery(DICOMWEB));
    expectTypeOf(found.resource).toEqualTypeOf<Bundle<R4.Endpoint> | undefined>();
    expect(found.resource!.entry!.map((e) => e.resource!.id)).toEqual([id]);

    // @ts-expect-error: the resource type argument is the resource's
    void (() => client.read<R4.Endpoint>('Patient', id));
  });

  it('a conditional update of an R4.ImagingStudy, and a typed transaction Bundle', async () => {
    const study = mapImagingStudy(fullStudy(), R4_OPTIONS);
    const written = await client.conditionalUpdate('ImagingStudy', conditionalUpdateQuery(STUDY_UID, 'R4'), study);
    expectTypeOf(written.resource).toEqualTypeOf<R4.ImagingStudy | undefined>();
    expect(written.status).toBe(201);

    const id = written.resource!.id!;
    const patient = mapPatient(fullStudy(), R4_OPTIONS);
    const bundle: Bundle<R4.Patient | R4.ImagingStudy> = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:5b0a7b3e-3c1f-4d7e-9f58-0d6c1a2b3c4d', resource: patient, request: { method: 'POST', url: 'Patient' } },
        {
          resource: { ...study, id, subject: { reference: 'urn:uuid:5b0a7b3e-3c1f-4d7e-9f58-0d6c1a2b3c4d' } },
          request: { method: 'PUT', url: `ImagingStudy/${id}` },
        },
      ],
    };
    const answer = await client.transaction(bundle);
    expectTypeOf(answer.resource).toEqualTypeOf<Bundle<FhirResource> | undefined>();
    expect(answer.resource!.type).toBe('transaction-response');
    expect(answer.resource!.entry!.map((e) => e.response!.status.slice(0, 3))).toEqual(['201', '200']);
    const stored = await client.read<R4.ImagingStudy>('ImagingStudy', id);
    expect(stored.resource!.subject.reference).toMatch(/^Patient\//);
  });
});
