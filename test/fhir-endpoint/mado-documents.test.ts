/**
 * The MADO manifests on the built-in FHIR endpoint, over real HTTP, with the
 * SQLite and the Redis index: DocumentReference search by the MADO
 * parameters (study-instance-uid, accession-number, modality,
 * anatomical-region) and patient, date, _count; reads of DocumentReference
 * and Bundle (the manifest); the CapabilityStatement lists both. Without
 * manifests the types stay unknown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localManifestResources } from '../../src/fhir/mado/local-resources.js';
import { manifestUid } from '../../src/fhir/mado/manifest-uid.js';
import { patientId } from '../../src/fhir/resource-ids.js';
import { handleFhirRequest } from '../../src/fhir-endpoint/index.js';
import { RedisResourceIndex } from '../../src/fhir-endpoint/redis/index.js';
import type { FhirResource, ResourceIndex } from '../../src/fhir-endpoint/resource-index.js';
import { SqliteResourceIndex } from '../../src/fhir-endpoint/sqlite-resource-index.js';
import { fullStudy, withStudy } from '../fhir/fixtures.js';
import { freePort } from '../support/free-port.js';
import { validateR4 } from '../support/fhir-validate.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { echoStudy, ECHO_STUDY_UID, manifestOptions } from '../fhir/mado/fixtures.js';

const q = encodeURIComponent;
const ECHO_MANIFEST = manifestUid(ECHO_STUDY_UID);
const ct = withStudy(fullStudy(), { accessionNumber: 'CT-77' });
const CT_MANIFEST = manifestUid(ct.studyInstanceUid);

function resources(): FhirResource[] {
  return [
    ...localManifestResources(echoStudy(), manifestOptions()),
    ...localManifestResources(ct, manifestOptions({ sharing: { excludeSopClasses: [] }, createdAt: '2026-08-01T00:00:00.000Z' })),
  ] as unknown as FhirResource[];
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  // The validator's first load blocks the process for seconds: before any server and keep-alive connection.
  validateR4({ resourceType: 'Basic', code: { text: 'warm-up' } });
});
afterAll(async () => {
  await redis?.stop();
});

let prefixes = 0;
const INDEXES: Array<[string, (dir: string) => ResourceIndex]> = [
  ['SQLite', (dir) => new SqliteResourceIndex({ dataDir: dir, fhirVersion: 'R4', timezone: 'UTC' })],
  ['Redis', () => new RedisResourceIndex({ client: redis.url, prefix: `mado${prefixes++}`, fhirVersion: 'R4', timezone: 'UTC' })],
];

describe.each(INDEXES)('%s index', (_name, makeIndex) => {
  let server: Server;
  let base: string;
  let index: ResourceIndex;
  let dir: string;
  let manifests = true;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mado-documents-'));
    index = makeIndex(dir);
    await index.put(resources());
    server = createServer((req, res) => {
      if (!handleFhirRequest(req, res, { index, fhirVersion: 'R4', timezone: 'UTC', manifests })) {
        res.writeHead(404);
        res.end();
      }
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    base = `http://127.0.0.1:${port}/fhir`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const res = await fetch(`${base}/${path}`);
    return { status: res.status, body: (await res.json()) as any };
  };
  const found = async (query: string): Promise<string[]> => {
    const { status, body } = await get(`DocumentReference?${query}`);
    expect(status, `${query}: ${JSON.stringify(body)}`).toBe(200);
    return (body.entry ?? []).map((e: any) => e.resource.id).sort();
  };

  test('the MADO search parameters find each manifest, and only it', async () => {
    const cases: Array<[string, string[]]> = [
      [`study-instance-uid=${q(`urn:dicom:uid|urn:oid:${ECHO_STUDY_UID}`)}`, [ECHO_MANIFEST]],
      [`study-instance-uid=${q(ECHO_STUDY_UID)}`, [ECHO_MANIFEST]],
      [`study-instance-uid=${q(ct.studyInstanceUid)}`, [CT_MANIFEST]],
      [`study-instance-uid=${q('1.2.3.404')}`, []],
      [`accession-number=E-1001`, [ECHO_MANIFEST]],
      [`accession-number=${q('urn:oid:1.2.3.4.5.6|E-1001')}`, [ECHO_MANIFEST]],
      [`accession-number=CT-77`, [CT_MANIFEST]],
      [`accession-number=${q('urn:other|E-1001')}`, []],
      [`modality=US`, [ECHO_MANIFEST]],
      [`modality=${q('http://dicom.nema.org/resources/ontology/DCM|US')}`, [ECHO_MANIFEST]],
      [`modality=SR`, []], // the SR series is kept out of the echo manifest
      [`anatomical-region=${q('http://snomed.info/sct|80891009')}`, [ECHO_MANIFEST]],
      [`modality=US,CT`, [CT_MANIFEST, ECHO_MANIFEST].sort()],
      [`modality=US&accession-number=CT-77`, []],
      [`patient=Patient/${patientId({ system: 'urn:oid:1.2.392.100.1', value: 'MRN-9' })}`, [ECHO_MANIFEST]],
      [`date=ge2026-07-15`, [CT_MANIFEST]],
      [`date=lt2026-07-15`, [ECHO_MANIFEST]],
      [`status=current`, [CT_MANIFEST, ECHO_MANIFEST].sort()],
      [`identifier=${q(`urn:dicom:uid|urn:oid:${ECHO_MANIFEST}`)}`, [ECHO_MANIFEST]],
    ];
    for (const [query, expected] of cases) expect(await found(query), query).toEqual(expected);
    const page = await get('DocumentReference?_count=1');
    expect(page.body.total).toBe(2);
    expect(page.body.entry).toHaveLength(1);
    expect(page.body.link.find((l: any) => l.relation === 'next').url).toContain(`${base}/DocumentReference?`);
    expect((await get('DocumentReference?unknown=1')).status).toBe(400);
  });

  test('reads the DocumentReference and the Bundle it points at, both valid R4', async () => {
    const doc = await get(`DocumentReference/${ECHO_MANIFEST}`);
    expect(doc.status).toBe(200);
    expect(doc.body.content[0].attachment.url).toBe(`Bundle/${ECHO_MANIFEST}`);
    const bundle = await get(doc.body.content[0].attachment.url);
    expect(bundle.status).toBe(200);
    expect(bundle.body).toMatchObject({ resourceType: 'Bundle', type: 'document', id: ECHO_MANIFEST });
    expect((await get('Bundle?identifier=x')).status).toBe(400);
    expect(validateR4(doc.body)).toEqual([]);
    expect(validateR4(bundle.body)).toEqual([]);
  });

  test('the CapabilityStatement lists DocumentReference (MADO search parameters) and Bundle', async () => {
    const { body } = await get('metadata');
    const resources = body.rest[0].resource;
    expect(resources.map((r: any) => r.type)).toEqual(['ImagingStudy', 'Patient', 'Endpoint', 'DocumentReference', 'Bundle']);
    const docRef = resources.find((r: any) => r.type === 'DocumentReference');
    expect(docRef.interaction.map((i: any) => i.code)).toEqual(['read', 'search-type']);
    expect(docRef.searchParam.find((p: any) => p.name === 'study-instance-uid').definition).toBe(
      'https://profiles.ihe.net/RAD/MADO/SearchParameter/SearchParameterDocumentReferenceStudyInstanceUid',
    );
    expect(validateR4(body)).toEqual([]);
  });

  test('without manifests, DocumentReference and Bundle are unknown types', async () => {
    manifests = false;
    try {
      expect((await get(`DocumentReference/${ECHO_MANIFEST}`)).status).toBe(404);
      expect((await get(`Bundle/${ECHO_MANIFEST}`)).status).toBe(404);
    } finally {
      manifests = true;
    }
  });
});
