/**
 * The MADO storyboard end to end (storescu → bridge → FHIR server), in the
 * embedded and the Redis mode: a study of two CT series and a Comprehensive
 * SR series (the preliminary measurements) with a procedure code. The bridge
 * (FHIR_MANIFEST=mado, the SR SOP class kept out) publishes the ImagingStudy
 * with all three series, the manifest Bundle without the SR, and the MHD
 * DocumentReference, findable by the MADO search parameters
 * study-instance-uid and accession-number on the validating test FHIR
 * server (which loads the MADO SearchParameters as an MHD Document
 * Responder with the MADO IG would). A re-send writes nothing; a series
 * added later updates the same manifest. Orthanc (with its DICOMweb plugin)
 * holds the same study: every instance the manifest names is retrieved and
 * rendered through the manifest's WADO-RS Endpoint, and through the
 * ImagingStudy's own Endpoint (also without the manifest option).
 */
import { indexSearchParameter } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { manifestUid } from '../../src/fhir/mado/manifest-uid.js';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { validateR4 } from '../support/fhir-validate.js';
import { generateStudy, PYTHON, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { published, publishedOnServer, storescu } from './helpers.js';
import { MODES, ModeEnvironment } from './modes.js';

// A study through storescu, the bridge, Medplum and Orthanc on a shared 2-core machine: generous bounds, not timing assertions.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const MAKE_SR = fileURLToPath(new URL('../../fixtures/make-sr.py', import.meta.url));
const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ACCESSION = 'ACC-MADO-1';
const PATIENT_ID = 'PID-MADO-1';
const PROCEDURE = { code: '418023006', scheme: 'SCT', meaning: 'CT of chest and abdomen' };
const VIEWER = 'https://viewer.example/ohif/viewer?StudyInstanceUIDs={studyUid}';

/** The MADO search parameters (docs/mado/fsh/mhd/SearchParameter-DocumentReference-*.fsh) on the test server. */
function registerMadoSearchParameters(): void {
  const param = (code: string, dcmCode: string): SearchParameter => ({
    resourceType: 'SearchParameter',
    url: `https://profiles.ihe.net/RAD/MADO/SearchParameter/${code}`,
    name: code,
    status: 'active',
    description: code,
    code,
    base: ['DocumentReference'],
    type: 'token',
    expression: `DocumentReference.context.related.identifier.where(type.coding.where(system = '${DCM}' and code = '${dcmCode}').exists())`,
  });
  indexSearchParameter(param('study-instance-uid', '110180'));
  indexSearchParameter(param('accession-number', '121022'));
}

interface Sr {
  path: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

async function makeSr(dir: string, study: GeneratedStudy): Promise<Sr> {
  const out = path.join(dir, 'measurements.dcm');
  const result = await run(PYTHON, [MAKE_SR, '--out', out, '--study-uid', study.studyInstanceUid, '--patient-id', PATIENT_ID, '--accession', ACCESSION,
    '--study-description', 'CT chest abdomen', '--procedure-code', `${PROCEDURE.code}^${PROCEDURE.scheme}^${PROCEDURE.meaning}`]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Sr;
}

/** GET a WADO-RS URL: status, content type and the first bytes. */
async function wado(url: string, accept: string): Promise<{ status: number; type: string; head: Buffer; bytes: number }> {
  const res = await fetch(url, { headers: { Accept: accept } });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type') ?? '', head: body.subarray(0, 4), bytes: body.length };
}

const JPEG = Buffer.from([0xff, 0xd8, 0xff]);

/** Renders and retrieves every instance of `series` through the Endpoint at `address`. */
async function retrieveThrough(address: string, studyUid: string, series: Array<{ uid: string; instance: Array<{ uid: string }> }>): Promise<number> {
  let n = 0;
  for (const s of series) {
    for (const i of s.instance) {
      const base = `${address}/studies/${studyUid}/series/${s.uid}/instances/${i.uid}`;
      const rendered = await wado(`${base}/rendered`, 'image/jpeg');
      expect({ url: base, status: rendered.status, type: rendered.type }).toEqual({ url: base, status: 200, type: 'image/jpeg' });
      expect(rendered.head.subarray(0, 3)).toEqual(JPEG);
      const instance = await wado(base, 'multipart/related; type="application/dicom"');
      expect(instance.status).toBe(200);
      expect(instance.type).toMatch(/^multipart\/related/);
      expect(instance.bytes).toBeGreaterThan(64 * 64 * 2);
      n++;
    }
  }
  return n;
}

const entriesOf = (bundle: any, type: string): any[] => (bundle.entry ?? []).map((e: any) => e.resource).filter((r: any) => r?.resourceType === type);

describe.each(MODES)('%s mode', (mode) => {
  const modes = new ModeEnvironment(mode);
  let dir: string;
  let study: GeneratedStudy;
  let later: GeneratedStudy;
  let sr: Sr;
  let fhir: TestFhirServer;
  let bridge: BridgeProcess;
  let orthanc: TestOrthanc;

  beforeAll(async () => {
    registerMadoSearchParameters();
    dir = await mkdtemp(path.join(tmpdir(), 'dfb-mado-'));
    const common = { instances: 2, size: 'small' as const, accession: ACCESSION, patientId: PATIENT_ID, procedureCode: PROCEDURE, studyDescription: 'CT chest abdomen' };
    study = await generateStudy({ ...common, series: 2, modalities: ['CT', 'CT'] });
    sr = await makeSr(dir, study);
    // A third CT series of the same study, sent later (its series UIDs are fresh).
    later = await generateStudy({ ...common, series: 1, modalities: ['CT'], studyInstanceUid: study.studyInstanceUid });
    orthanc = await startOrthanc();
    for (const file of [...study.files, sr.path, ...later.files]) await orthanc.upload(file);
    fhir = await startFhirServer();
    bridge = await startBridgeProcess({
      readyTimeoutMs: 120_000,
      env: await modes.env({
        FHIR_BASE_URL: fhir.baseUrl,
        FHIR_MANIFEST: 'mado',
        MANIFEST_EXCLUDE_SOP_CLASSES: COMPREHENSIVE_SR,
        MANIFEST_ORGANIZATION_NAME: 'Test Hospital',
        MANIFEST_ORGANIZATION_IDENTIFIER: 'urn:oid:1.2.3.4|TEST-HOSP',
        DICOMWEB_BASE_URL: orthanc.dicomWebUrl,
        VIEWER_URL_TEMPLATE: VIEWER,
        FHIR_ENDPOINT: 'on',
        PUBLISH_DEBOUNCE_MS: '300',
      }),
    });
  });

  afterAll(async () => {
    expect(await bridge?.stop()).toBe(0);
    bridge?.cleanup();
    await fhir?.close();
    await orthanc?.stop();
    if (study) await removeStudy(study.dir);
    if (later) await removeStudy(later.dir);
    if (dir) await rm(dir, { recursive: true, force: true });
    await modes.close();
  });

  const docRefs = async (query: string): Promise<any[]> => ((await fhir.search(`DocumentReference?${query}`)).entry ?? []).map((e: any) => e.resource);
  const uid = () => manifestUid(study.studyInstanceUid);
  const manifestBundle = async (instances: number): Promise<any> =>
    eventually(
      async () => {
        const found = (await fhir.search(`Bundle?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${uid()}`)}`)).entry ?? [];
        const bundle = found[0]?.resource;
        const imagingStudy = bundle && entriesOf(bundle, 'ImagingStudy')[0];
        return found.length === 1 && imagingStudy?.numberOfInstances === instances ? bundle : undefined;
      },
      60_000,
      `manifest Bundle with ${instances} instances`,
    );

  it('publishes the ImagingStudy with all three series and the manifest without the SR series, valid R4', async () => {
    const sent = await storescu(bridge, [study.dir, sr.path], ['+sd', '+r']);
    expect(sent.code, sent.stderr).toBe(0);
    const imagingStudy = await publishedOnServer(fhir, study.studyInstanceUid, 5);
    expect(imagingStudy.numberOfSeries).toBe(3);
    expect(imagingStudy.series.map((s: any) => s.modality.code).sort()).toEqual(['CT', 'CT', 'SR']);

    const bundle = await manifestBundle(4);
    expect(bundle.type).toBe('document');
    expect(bundle.identifier).toEqual({ system: 'urn:dicom:uid', value: `urn:oid:${uid()}` });
    expect(bundle.entry[0].resource.resourceType).toBe('Composition');
    const manifestStudy = entriesOf(bundle, 'ImagingStudy')[0];
    expect(manifestStudy.numberOfSeries).toBe(2);
    expect(manifestStudy.series.map((s: any) => s.uid).sort()).toEqual(study.series.map((s) => s.seriesInstanceUid).sort());
    expect(manifestStudy.series.flatMap((s: any) => s.instance.map((i: any) => i.uid))).not.toContain(sr.sopInstanceUid);
    expect(manifestStudy.procedureCode[0].coding[0]).toMatchObject({ code: PROCEDURE.code, display: PROCEDURE.meaning });
    const viewer = entriesOf(bundle, 'Endpoint').find((e) => e.payloadMimeType?.includes('text/html'));
    expect(viewer.address).toBe(VIEWER.replace('{studyUid}', study.studyInstanceUid));
    expect(entriesOf(bundle, 'Organization')[0]).toMatchObject({ name: 'Test Hospital', identifier: [{ system: 'urn:oid:1.2.3.4', value: 'TEST-HOSP' }] });
    expect(validateR4(bundle)).toEqual([]);
  });

  it('publishes the DocumentReference, findable by study-instance-uid and accession-number, pointing at the stored Bundle', async () => {
    const byStudy = await eventually(
      async () => {
        const found = await docRefs(`study-instance-uid=${encodeURIComponent(`urn:dicom:uid|urn:oid:${study.studyInstanceUid}`)}`);
        return found.length === 1 ? found : undefined;
      },
      60_000,
      'DocumentReference by study-instance-uid',
    );
    const docRef = byStudy[0];
    expect(validateR4(docRef)).toEqual([]);
    expect(await docRefs(`accession-number=${encodeURIComponent(ACCESSION)}`)).toEqual([expect.objectContaining({ id: docRef.id })]);
    expect(await docRefs(`study-instance-uid=${encodeURIComponent('urn:dicom:uid|urn:oid:1.2.3.999')}`)).toEqual([]);
    expect(docRef.status).toBe('current');
    expect(docRef.masterIdentifier).toEqual({ system: 'urn:dicom:uid', value: `urn:oid:${uid()}` });
    expect(docRef.content[0].format.code).toBe('urn:ihe:rad:MADO:fhir-manifest:2026');
    const attachment = docRef.content[0].attachment;
    expect(attachment.contentType).toBe('application/fhir+json');
    const bundleId = attachment.url.slice(`${fhir.baseUrl}/Bundle/`.length);
    expect(attachment.url).toBe(`${fhir.baseUrl}/Bundle/${bundleId}`);
    const stored = await fhir.request('GET', `/Bundle/${bundleId}`);
    expect(stored.status).toBe(200);
    expect(stored.body.identifier.value).toBe(`urn:oid:${uid()}`);
    const imagingStudy = (await publishedOnServer(fhir, study.studyInstanceUid, 5)) as any;
    expect(docRef.context.related).toContainEqual(expect.objectContaining({ reference: `ImagingStudy/${imagingStudy.id}` }));
    expect(docRef.context.related.map((r: any) => r.identifier.type.coding.map((c: any) => c.code))).toEqual([['110180'], ['ACSN', '121022']]);
    // The subject is the ImagingStudy's.
    expect(docRef.subject).toEqual(imagingStudy.subject);
  });

  it('the built-in endpoint serves the DocumentReference by study-instance-uid and accession-number, and the manifest Bundle', async () => {
    const byStudy = await eventually(
      async () => {
        const r = await bridge.get(`/fhir/DocumentReference?study-instance-uid=${encodeURIComponent(study.studyInstanceUid)}`);
        return r.status === 200 && r.body.total === 1 ? r.body : undefined;
      },
      60_000,
      'DocumentReference on the built-in endpoint',
    );
    const docRef = byStudy.entry[0].resource;
    expect(docRef.id).toBe(uid());
    const byAccession = await bridge.get(`/fhir/DocumentReference?accession-number=${ACCESSION}`);
    expect(byAccession.body.entry.map((e: any) => e.resource.id)).toEqual([uid()]);
    const bundle = await bridge.get(`/fhir/${docRef.content[0].attachment.url}`);
    expect(bundle.status).toBe(200);
    expect(entriesOf(bundle.body, 'ImagingStudy')[0].numberOfSeries).toBe(2);
    expect(validateR4(docRef)).toEqual([]);
  });

  it('retrieves and renders every instance the manifest names from Orthanc, through the manifest\'s WADO-RS Endpoint', async () => {
    const bundle = await manifestBundle(4);
    const manifestStudy = entriesOf(bundle, 'ImagingStudy')[0];
    const byUrl = new Map<string, any>(bundle.entry.map((e: any) => [e.fullUrl, e.resource]));
    const addresses = new Set<string>(manifestStudy.series.map((s: any) => byUrl.get(s.endpoint[0].reference).address));
    expect([...addresses]).toEqual([orthanc.dicomWebUrl]);
    expect(await retrieveThrough([...addresses][0]!, study.studyInstanceUid, manifestStudy.series)).toBe(4);
  });

  it('the ImagingStudy\'s own Endpoint on the FHIR server retrieves every instance too, the SR included', async () => {
    const imagingStudy = await publishedOnServer(fhir, study.studyInstanceUid, 5);
    const endpoint = await fhir.request('GET', `/${imagingStudy.endpoint[0].reference}`);
    expect(endpoint.body.connectionType.code).toBe('dicom-wado-rs');
    const images = imagingStudy.series.filter((s: any) => s.modality.code === 'CT');
    expect(await retrieveThrough(endpoint.body.address, study.studyInstanceUid, images)).toBe(4);
    const srSeries = imagingStudy.series.find((s: any) => s.modality.code === 'SR');
    const srUrl = `${endpoint.body.address}/studies/${study.studyInstanceUid}/series/${srSeries.uid}/instances/${sr.sopInstanceUid}`;
    expect((await wado(srUrl, 'multipart/related; type="application/dicom"')).status).toBe(200);
  });

  it('a re-send of the whole study writes neither the Bundle nor the DocumentReference again', async () => {
    const before = await published(bridge, study.studyInstanceUid, 5);
    const writes = { bundle: fhir.writeCount('Bundle'), docRef: fhir.writeCount('DocumentReference') };
    expect(writes).toEqual({ bundle: 1, docRef: 1 });
    const sent = await storescu(bridge, [study.dir, sr.path], ['+sd', '+r']);
    expect(sent.code, sent.stderr).toBe(0);
    await eventually(
      async () => {
        const { body } = await bridge.get(`/studies/${study.studyInstanceUid}`);
        // The re-send is merged (lastReceivedAt moves); it changes nothing, so it may or may
        // not publish again: either way it is published, and no manifest write follows.
        return body.publishState === 'published' && body.lastReceivedAt !== before.lastReceivedAt ? body : undefined;
      },
      60_000,
      'the re-sent study merged',
    );
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a debounced publish, if any, has run
    expect({ bundle: fhir.writeCount('Bundle'), docRef: fhir.writeCount('DocumentReference') }).toEqual(writes);
  });

  it('a series added later updates the same manifest and DocumentReference', async () => {
    const bundleBefore = await manifestBundle(4);
    const sent = await storescu(bridge, [later.dir], ['+sd', '+r']);
    expect(sent.code, sent.stderr).toBe(0);
    await publishedOnServer(fhir, study.studyInstanceUid, 7);
    const bundle = await manifestBundle(6);
    expect(bundle.id).toBe(bundleBefore.id);
    expect(entriesOf(bundle, 'ImagingStudy')[0].numberOfSeries).toBe(3);
    expect(entriesOf(bundle, 'Composition')[0].section).toHaveLength(3);
    expect(validateR4(bundle)).toEqual([]);
    const docs = await eventually(
      async () => {
        const found = await docRefs(`identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${uid()}`)}`);
        return found.length === 1 && found[0].date === bundle.timestamp ? found : undefined;
      },
      60_000,
      'the DocumentReference of the updated manifest',
    );
    expect(docs[0].content[0].attachment.url).toBe(`${fhir.baseUrl}/Bundle/${bundle.id}`);
    expect(fhir.writeCount('Bundle')).toBe(2);
    expect(fhir.writeCount('DocumentReference')).toBe(2);
  });
});

describe('without FHIR_MANIFEST (embedded mode)', () => {
  let study: GeneratedStudy;
  let orthanc: TestOrthanc;
  let fhir: TestFhirServer;
  let bridge: BridgeProcess;

  beforeAll(async () => {
    study = await generateStudy({ series: 2, instances: 1, modalities: ['CT', 'MR'], size: 'small' });
    orthanc = await startOrthanc();
    for (const file of study.files) await orthanc.upload(file);
    fhir = await startFhirServer();
    bridge = await startBridgeProcess({ readyTimeoutMs: 120_000, env: { FHIR_BASE_URL: fhir.baseUrl, DICOMWEB_BASE_URL: orthanc.dicomWebUrl, PUBLISH_DEBOUNCE_MS: '300' } });
  });

  afterAll(async () => {
    expect(await bridge?.stop()).toBe(0);
    bridge?.cleanup();
    await fhir?.close();
    await orthanc?.stop();
    if (study) await removeStudy(study.dir);
  });

  it('the ImagingStudy\'s Endpoint retrieves and renders every instance; no manifest is written', async () => {
    const sent = await storescu(bridge, [study.dir], ['+sd', '+r']);
    expect(sent.code, sent.stderr).toBe(0);
    const imagingStudy = await publishedOnServer(fhir, study.studyInstanceUid, 2);
    const endpoint = await fhir.request('GET', `/${imagingStudy.endpoint[0].reference}`);
    expect(endpoint.body.address).toBe(orthanc.dicomWebUrl);
    expect(await retrieveThrough(endpoint.body.address, study.studyInstanceUid, imagingStudy.series)).toBe(2);
    expect([fhir.writeCount('Bundle'), fhir.writeCount('DocumentReference')]).toEqual([0, 0]);
  });
});
