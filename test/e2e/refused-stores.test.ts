/**
 * Refused C-STOREs leave a trace, the same in both modes: one warn line each
 * (status, reason, calling AE, SOP Instance UID; no patient data), at most
 * 10 per sender and minute and then one line with the count; and the
 * per-sender metrics (configured peers by AE title, everything else as
 * `other`), publish latency without a FHIR server, the store's size.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { generateStudy, PYTHON, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { MODES, ModeEnvironment } from './modes.js';

const PATIENT_ID = 'REFUSEDPID551';

function metric(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? Number.NaN : Number(found.split(' ').pop());
}

const logLines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

let good: GeneratedStudy;
let bad: GeneratedStudy;
let dir: string;
/** One file whose header is over the 64 KiB cap (A700), then 12 without Study Instance UID (C000). */
let refusedFiles: string[];
let bigHeaderUid: string;

beforeAll(async () => {
  good = await generateStudy({ series: 1, instances: 2, patientId: PATIENT_ID });
  bad = await generateStudy({ series: 1, instances: 13, patientId: PATIENT_ID });
  dir = await mkdtemp(join(tmpdir(), 'dfb-refused-'));
  const [big, ...rest] = bad.files;
  const bigFile = join(dir, 'big.dcm');
  await copyFile(big!, bigFile);
  // A private element of 100 kB before Pixel Data: the header exceeds DICOM_HEADER_CAP_BYTES.
  const py = `import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
block = ds.private_block(0x0009, 'DFB TEST', create=True)
block.add_new(0x01, 'OB', bytes(100000))
ds.save_as(sys.argv[1])
print(ds.SOPInstanceUID)`;
  const made = await run(PYTHON, ['-c', py, bigFile]);
  expect(made.code, made.stderr).toBe(0);
  bigHeaderUid = made.stdout.trim();
  const noStudyUid = await run('dcmodify', ['-nb', '-ea', '(0020,000D)', ...rest]);
  expect(noStudyUid.code, noStudyUid.stderr).toBe(0);
  refusedFiles = [bigFile, ...rest];
});
afterAll(async () => {
  await removeStudy(good.dir);
  await removeStudy(bad.dir);
  await rm(dir, { recursive: true, force: true });
});

describe.each(MODES)('%s mode', (mode) => {
  const modes = new ModeEnvironment(mode);
  let bridge: BridgeProcess;
  beforeAll(async () => {
    bridge = await startBridgeProcess({
      env: await modes.env({ DICOM_HEADER_CAP_BYTES: '65536', DICOM_ALLOWED_CALLERS: 'MODALITY,CT01', PUBLISH_DEBOUNCE_MS: '100', LOG_LEVEL: 'info' }),
    });
  });
  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
    await modes.close();
  });

  it('logs each refused C-STORE (rate-limited per sender) and counts by calling AE', async () => {
    const send = (aet: string, files: string[]) =>
      run('storescu', ['-nh', '-aet', aet, '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort), ...files], { timeoutMs: 60_000 });
    await send('MODALITY', refusedFiles); // -nh: go on after a failure status
    await send('CT01', [refusedFiles[1]!]);
    const sent = await send('MODALITY', good.files);
    expect(sent.code, sent.stderr).toBe(0);
    expect((await run('echoscu', ['-aet', 'STRANGER', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort)])).code).not.toBe(0);
    await eventually(async () => {
      const { body } = await bridge.get(`/studies/${good.studyInstanceUid}`);
      return body?.publishState === 'published' ? body : undefined;
    });

    const res = await fetch(`http://127.0.0.1:${bridge.httpPort}/metrics`);
    const text = await res.text();
    expect(metric(text, 'dfb_calling_ae_instances_received_total{calling_ae="MODALITY"}')).toBe(15);
    expect(metric(text, 'dfb_calling_ae_instances_received_total{calling_ae="CT01"}')).toBe(1);
    expect(metric(text, 'dfb_calling_ae_cstore_refused_total{calling_ae="MODALITY",status="C000"}')).toBe(12);
    expect(metric(text, 'dfb_calling_ae_cstore_refused_total{calling_ae="MODALITY",status="A700"}')).toBe(1);
    expect(metric(text, 'dfb_calling_ae_cstore_refused_total{calling_ae="CT01",status="C000"}')).toBe(1);
    expect(metric(text, 'dfb_calling_ae_associations_total{calling_ae="MODALITY",result="accepted"}')).toBe(2);
    expect(metric(text, 'dfb_calling_ae_associations_total{calling_ae="other",result="calling-ae"}')).toBe(1);
    expect(text).not.toContain('STRANGER');
    // Without a FHIR server too: from the last instance to the resources in the store and the built-in endpoint.
    expect(metric(text, 'dfb_publish_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'dfb_oldest_pending_study_age_seconds')).toBe(0);
    if (mode === 'embedded') expect(metric(text, 'dfb_store_size_bytes{store="pipeline"}')).toBeGreaterThan(0);
    else expect(text).not.toContain('dfb_store_size_bytes');

    await bridge.stop();
    const lines = logLines(bridge.output());
    const refused = lines.filter((l) => l.msg === 'C-STORE refused');
    const fromModality = refused.filter((l) => l.callingAeTitle === 'MODALITY');
    expect(fromModality).toHaveLength(10);
    expect(fromModality[0]).toMatchObject({ level: 40, status: 'A700', sopInstanceUid: bigHeaderUid });
    expect(fromModality[0]!.reason).toMatch(/header exceeds 65536 bytes/);
    expect(fromModality[1]).toMatchObject({ status: 'C000' });
    expect(fromModality[1]!.reason).toMatch(/Study Instance UID/);
    expect(fromModality.every((l) => /^[0-9.]+$/.test(l.sopInstanceUid))).toBe(true);
    expect(refused.filter((l) => l.callingAeTitle === 'CT01')).toHaveLength(1);
    const held = lines.filter((l) => l.msg === 'more C-STOREs refused (rate limit: not logged one by one)');
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ level: 40, sender: 'MODALITY', suppressed: 3, byStatus: { C000: 3 } });
    expect(bridge.output()).not.toContain(PATIENT_ID);
  });
});
