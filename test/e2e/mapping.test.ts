/**
 * The mapping end to end with real data: pydicom's test_files and
 * charset_files sent with dcmsend through the bridge. Every R4 write is
 * validated by the test FHIR server (Medplum's validator and the official R4
 * schema); R5 output against the official R5 schema; STU3 output against the
 * STU3 element lists; Patient names decoded as pydicom decodes them.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientId } from '../../src/fhir/resource-ids.js';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { assertStu3ImagingStudyShape, validateR4, validateR5 } from '../support/fhir-validate.js';
import { run } from '../support/run.js';
import { publishedOnServer, storescu } from './helpers.js';

const PYDICOM_DATA = '/usr/lib/python3/dist-packages/pydicom/data';
const TEST_FILES = join(PYDICOM_DATA, 'test_files');
const CHARSET_FILES = join(PYDICOM_DATA, 'charset_files');
const SYSTEM = 'urn:oid:1.2.250.1.999.1';

function dcmsend(bridge: BridgeProcess, target: string) {
  return run(
    'dcmsend',
    ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '-nh', '-dn', '--scan-directories', '127.0.0.1', String(bridge.dicomPort), target],
    { timeoutMs: 180_000 },
  );
}

/** Study Instance UIDs of the test files pydicom reads with all four UIDs (what the bridge must end with). */
async function expectedStudyUids(): Promise<string[]> {
  const result = await run('/usr/bin/python3', [
    '-W',
    'ignore',
    '-c',
    `import glob, json, os, pydicom
uids = set()
for f in glob.glob('${TEST_FILES}/*'):
    if os.path.isdir(f): continue
    try:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
    except Exception:
        continue
    if all(k in ds for k in ('StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID')):
        uids.add(str(ds.StudyInstanceUID))
print(json.dumps(sorted(uids)))`,
  ]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as string[];
}

/** Every study the bridge holds, once none is pending any more. */
async function settledStudies(bridge: BridgeProcess): Promise<any[]> {
  return eventually(
    async () => {
      const { body } = await bridge.get('/studies?limit=10000');
      return body.length > 0 && body.every((s: any) => s.publishState !== 'pending') ? body : undefined;
    },
    90_000,
    'every study published or failed',
  );
}

describe.each(['R4', 'R5', 'STU3'] as const)("pydicom's test_files end to end in %s", (version) => {
  let fhir: TestFhirServer | undefined;
  let bridge: BridgeProcess;
  let studies: any[];

  beforeAll(async () => {
    if (version === 'R4') fhir = await startFhirServer();
    bridge = await startBridgeProcess({
      env: {
        FHIR_VERSION: version,
        PUBLISH_DEBOUNCE_MS: '300',
        FHIR_PATIENT_ID_SYSTEM: SYSTEM,
        DICOMWEB_BASE_URL: 'https://pacs.example.org/dicom-web',
        ...(fhir ? { FHIR_BASE_URL: fhir.baseUrl, FHIR_PATIENT_STRATEGY: 'create' } : {}),
      },
    });
    // dcmsend skips what it cannot read and reports instances the bridge refuses (no UIDs): not asserted here.
    await dcmsend(bridge, TEST_FILES);
    studies = await settledStudies(bridge);
  });

  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
    await fhir?.close();
  });

  it('publishes every study pydicom can read, none failed', async () => {
    const expected = await expectedStudyUids();
    expect(expected.length).toBeGreaterThanOrEqual(15);
    expect(studies.map((s) => s.studyInstanceUid).sort()).toEqual(expected);
    expect(studies.filter((s) => s.publishState === 'failed').map((s) => [s.studyInstanceUid, s.lastError])).toEqual([]);
  });

  it('generates resources valid for the version', async () => {
    for (const summary of studies) {
      const { body } = await bridge.get(`/studies/${summary.studyInstanceUid}`);
      const resource = body.lastResource;
      expect(resource.resourceType).toBe('ImagingStudy');
      const problems =
        version === 'R4' ? validateR4(resource) : version === 'R5' ? validateR5(resource) : assertStu3ImagingStudyShape(resource);
      expect(problems, summary.studyInstanceUid).toEqual([]);
    }
    if (fhir) {
      // The server validated every write; nothing was refused.
      expect(fhir.requests.filter((r) => r.status === 400)).toEqual([]);
      expect(fhir.writeCount('Patient')).toBeGreaterThan(0);
    }
  });
});

describe("pydicom's charset_files end to end: names decoded with their character sets", () => {
  let bridge: BridgeProcess;

  beforeAll(async () => {
    bridge = await startBridgeProcess({ env: { PUBLISH_DEBOUNCE_MS: '100', FHIR_PATIENT_ID_SYSTEM: SYSTEM } });
  });
  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
  });

  it('gives each Patient the component groups pydicom reads', async () => {
    const expected = await run('/usr/bin/python3', [
      '-c',
      `import glob, json, pydicom
out = []
for f in sorted(glob.glob('${CHARSET_FILES}/*.dcm')):
    ds = pydicom.dcmread(f)
    if 'PatientID' in ds and 'PatientName' in ds and 'SOPInstanceUID' in ds:
        out.append({'file': f, 'id': ds.PatientID, 'name': str(ds.PatientName)})
print(json.dumps(out))`,
    ]);
    const cases = JSON.parse(expected.stdout) as { file: string; id: string; name: string }[];
    expect(cases.length).toBe(readdirSync(CHARSET_FILES).filter((f) => f.endsWith('.dcm')).length - 2);
    for (const c of cases) {
      // One file at a time: several share a Study Instance UID, and the latest patient attributes win.
      await dcmsend(bridge, c.file);
      const id = patientId({ system: SYSTEM, value: c.id });
      const patient = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${bridge.httpPort}/fhir/Patient/${id}`);
        return res.status === 200 ? ((await res.json()) as any) : undefined;
      }, 30_000, `Patient ${c.id}`);
      expect(validateR4(patient), c.file).toEqual([]);
      const names = patient.name as { family?: string; given?: string[] }[];
      for (const group of c.name.split('=').filter((g) => g.length > 0)) {
        const [family, given] = group.split('^');
        const match = names.find((n) => (n.family ?? '') === (family ?? '') && (given === undefined || n.given?.[0] === given));
        expect(match, `${c.file}: ${group} in ${JSON.stringify(names)}`).toBeDefined();
      }
    }
  });
});

/**
 * Issue 19 items 4 and 10 end to end: location, a partial birth date and an Anatomic Region Sequence,
 * storescu → bridge → the test FHIR server (R4, Medplum's validator). Two images of one series: the first
 * carries the attributes, the second (sent after) has none of them and erases nothing.
 */
describe('location, partial birth date and Anatomic Region Sequence end to end (R4)', () => {
  let fhir: TestFhirServer;
  let bridge: BridgeProcess;
  let dir: string;
  const study = '1.2.826.0.1.3680043.8.498.19104';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mapping-19-'));
    const made = await run('/usr/bin/python3', [
      '-c',
      `import pydicom
from pydicom.dataset import Dataset
for n, full in ((1, True), (2, False)):
    ds = pydicom.dcmread('${TEST_FILES}/CT_small.dcm')
    ds.StudyInstanceUID = '${study}'
    ds.SeriesInstanceUID = '${study}.1'
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = '${study}.1.%d' % n
    ds.InstanceNumber = n
    ds.PatientID = 'P-19-104'
    ds.BodyPartExamined = 'CHEST'
    for k in ('InstitutionalDepartmentName', 'PerformedLocation', 'AnatomicRegionSequence'):
        if k in ds: delattr(ds, k)
    if full:
        ds.PatientBirthDate = '197003'
        ds.PerformedLocation = 'CT room 3'
        ds.InstitutionalDepartmentName = 'Radiology'
        region = Dataset()
        region.CodeValue = '72696002'
        region.CodingSchemeDesignator = 'SCT'
        region.CodeMeaning = 'Knee'
        ds.AnatomicRegionSequence = [region]
    else:
        ds.PatientBirthDate = ''
    ds.save_as('${dir}/%d.dcm' % n)
`,
    ]);
    expect(made.code, made.stderr).toBe(0);
    fhir = await startFhirServer();
    bridge = await startBridgeProcess({
      env: { PUBLISH_DEBOUNCE_MS: '300', FHIR_PATIENT_ID_SYSTEM: SYSTEM, FHIR_BASE_URL: fhir.baseUrl, FHIR_PATIENT_STRATEGY: 'create' },
    });
  });

  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
    await fhir?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes location, the YYYY-MM birth date and the coded Anatomic Region, all valid, kept after an image without them', async () => {
    for (const file of ['1.dcm', '2.dcm']) {
      const sent = await storescu(bridge, [join(dir, file)]);
      expect(sent.code, sent.stderr).toBe(0);
    }
    const resource = await publishedOnServer(fhir, study, 2);
    expect(validateR4(resource)).toEqual([]);
    expect(resource.location).toEqual({ display: 'CT room 3' });
    expect(resource.series[0].bodySite).toEqual({ system: 'http://snomed.info/sct', code: '72696002', display: 'Knee' });
    const patients = await fhir.search(`Patient?identifier=${encodeURIComponent(`${SYSTEM}|P-19-104`)}`);
    expect(patients.entry?.map((e: any) => e.resource.birthDate)).toEqual(['1970-03']);
    expect(fhir.requests.filter((r) => r.status === 400)).toEqual([]);
  });
});
