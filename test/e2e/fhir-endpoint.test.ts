import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { validateR4 } from '../support/fhir-validate.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { MODES, ModeEnvironment } from './modes.js';

const PATIENT_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.7';
const DICOMWEB = 'https://pacs.example.org/dicom-web';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

describe.each(MODES)('built-in FHIR endpoint, %s mode: the family physician storyboard', (mode) => {
  const modes = new ModeEnvironment(mode);
  let bridge: BridgeProcess;
  const studies: GeneratedStudy[] = [];

  async function fhirGet(path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`http://127.0.0.1:${bridge.httpPort}/fhir/${path}`);
    expect(res.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    return { status: res.status, body: await res.json() };
  }

  beforeAll(async () => {
    // No FHIR_BASE_URL: the endpoint is on by default and the bridge is the FHIR server for imaging.
    bridge = await startBridgeProcess({
      env: await modes.env({ PUBLISH_DEBOUNCE_MS: '200', FHIR_PATIENT_ID_SYSTEM: PATIENT_SYSTEM, DICOMWEB_BASE_URL: DICOMWEB }),
    });
    const plan = [
      { patientId: 'PAT-A', accession: 'ACC-A1', studyDate: '20240105', modalities: ['CT'], procedure: ['24627-2', 'LN', 'CT Chest'] },
      { patientId: 'PAT-A', accession: 'ACC-A2', studyDate: '20240612', modalities: ['MR', 'MR'], procedure: ['24590-2', 'LN', 'MR Brain'] },
      { patientId: 'PAT-B', accession: 'ACC-B1', studyDate: '20240301', modalities: ['US'], procedure: ['24558-9', 'LN', 'US Abdomen'] },
    ];
    for (const p of plan) {
      const [code, scheme, meaning] = p.procedure as [string, string, string];
      const study = await generateStudy({
        series: p.modalities.length,
        instances: 3,
        modalities: p.modalities,
        patientId: p.patientId,
        accession: p.accession,
        studyDate: p.studyDate,
        procedureCode: { code, scheme, meaning },
      });
      studies.push(study);
      const sent = await run('storescu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '+sd', '+r', '127.0.0.1', String(bridge.dicomPort), study.dir]);
      expect(sent.code, sent.stderr).toBe(0);
    }
    for (const study of studies) {
      await eventually(async () => {
        const { body } = await bridge.get(`/studies/${study.studyInstanceUid}`);
        return body?.publishState === 'published' ? true : undefined;
      });
    }
  });

  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
    studies.forEach((s) => removeStudy(s.dir));
    await modes.close();
  });

  it("answers an EHR's search for all ImagingStudy resources of one patient with date, procedure, modality, accession and the WADO-RS endpoint", async () => {
    const query = `ImagingStudy?patient.identifier=${encodeURIComponent(`${PATIENT_SYSTEM}|PAT-A`)}&_sort=started`;
    const { status, body } = await fhirGet(query);
    expect(status).toBe(200);
    expect(validateR4(body)).toEqual([]);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    const found = body.entry.map((e: any) => e.resource);
    expect(found.map((r: any) => r.started.slice(0, 10))).toEqual(['2024-01-05', '2024-06-12']);
    expect(found.map((r: any) => r.procedureCode[0].coding[0].code)).toEqual(['24627-2', '24590-2']);
    expect(found.map((r: any) => r.modality.map((m: any) => `${m.system}|${m.code}`))).toEqual([[`${DCM}|CT`], [`${DCM}|MR`]]);
    const accession = (r: any) => r.identifier.find((i: any) => i.type?.coding?.[0]?.code === 'ACSN').value;
    expect(found.map(accession)).toEqual(['ACC-A1', 'ACC-A2']);
    for (const study of found) {
      expect(study.numberOfInstances).toBe(study.modality[0].code === 'MR' ? 6 : 3);
      const [endpointRef] = study.endpoint;
      const endpoint = await fhirGet(endpointRef.reference);
      expect(endpoint.status).toBe(200);
      expect(endpoint.body).toMatchObject({ resourceType: 'Endpoint', address: DICOMWEB, connectionType: { code: 'dicom-wado-rs' } });
      const patient = await fhirGet(study.subject.reference);
      expect(patient.body.identifier[0]).toEqual({ system: PATIENT_SYSTEM, value: 'PAT-A' });
    }
  });

  it('finds the same studies by Patient/id, reads one by id, and answers metadata', async () => {
    const bySystem = await fhirGet(`ImagingStudy?patient.identifier=${encodeURIComponent(`${PATIENT_SYSTEM}|PAT-A`)}`);
    const subject = bySystem.body.entry[0].resource.subject.reference;
    const byId = await fhirGet(`ImagingStudy?patient=${encodeURIComponent(subject)}&_summary=count`);
    expect(byId.body.total).toBe(2);
    const uid = studies[2]!.studyInstanceUid;
    const read = await fhirGet(`ImagingStudy/${uid}`);
    expect(read.status).toBe(200);
    expect(read.body.identifier[0]).toEqual({ system: 'urn:dicom:uid', value: `urn:oid:${uid}` });
    const byModality = await fhirGet('ImagingStudy?modality=US');
    expect(byModality.body.total).toBe(1);
    const metadata = await fhirGet('metadata');
    expect(metadata.body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
    expect(validateR4(metadata.body)).toEqual([]);
    const unknown = await fhirGet('ImagingStudy?colour=blue');
    expect(unknown.status).toBe(400);
    expect(unknown.body.resourceType).toBe('OperationOutcome');
  });
});
