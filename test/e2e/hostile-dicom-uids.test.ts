/**
 * Issue 21 item 8: UIDs that are not UIDs (PS3.5 9.1) are refused before
 * the C-STORE is acknowledged: C000H with an Error Comment naming the
 * attribute, a log line, nothing stored; padding a modality may send
 * (trailing NUL, spaces) is trimmed and the instance taken. Files made with
 * pydicom and sent with storescu; what DCMTK would clean up on reading
 * (it removes spaces from UI values) is sent by a raw peer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { generateStudy, PYTHON, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { associateRq, cStoreRq, CT_IMAGE_STORAGE, ctDataSet, EXPLICIT_LE, isCommand, RawPeer } from './hostile-dicom-peer.js';

/** What pydicom writes into a copy of a generated file: attribute keyword and value. */
const BAD_FILES: ReadonlyArray<{ name: string; keyword: string; value: string; attribute: RegExp; problem: RegExp }> = [
  { name: 'traversal', keyword: 'StudyInstanceUID', value: '../../../etc/passwd', attribute: /Study Instance UID \(0020,000D\)/, problem: /empty component/ },
  { name: 'control', keyword: 'StudyInstanceUID', value: '1.2.3\x014', attribute: /Study Instance UID/, problem: /not digits and dots/ },
  { name: 'eighty', keyword: 'StudyInstanceUID', value: '1'.repeat(80), attribute: /Study Instance UID/, problem: /over 64 characters/ },
  { name: 'zero', keyword: 'SeriesInstanceUID', value: '1.2.840.0123.4', attribute: /Series Instance UID \(0020,000E\)/, problem: /leading zero/ },
  { name: 'letters', keyword: 'SeriesInstanceUID', value: '1.2.abc', attribute: /Series Instance UID/, problem: /not digits and dots/ },
  { name: 'sop', keyword: 'SOPInstanceUID', value: '1.2.3..4', attribute: /SOP Instance UID \(0008,0018\)/, problem: /empty component/ },
];

const statuses = (out: string): number[] => [...out.matchAll(/DIMSE Status\s+: 0x([0-9a-f]{4})/g)].map((m) => parseInt(m[1]!, 16));
const errorComments = (out: string): string[] => [...out.matchAll(/\(0000,0902\) LO \[([^\]]*)\]/g)].map((m) => m[1]!);

let study: GeneratedStudy;
let dir: string;
const badFiles: string[] = [];

beforeAll(async () => {
  study = await generateStudy({ series: 1, instances: 1 + BAD_FILES.length, patientId: 'UIDPID77' });
  dir = await mkdtemp(join(tmpdir(), 'dfb-uids-'));
  // One python run for every file: [source, target, keyword, value] per line of JSON on stdin.
  const py = `import sys, json, warnings, pydicom
warnings.simplefilter('ignore')
for source, target, keyword, value in json.load(sys.stdin):
    ds = pydicom.dcmread(source)
    setattr(ds, keyword, value)
    if keyword == 'SOPInstanceUID':
        ds.file_meta.MediaStorageSOPInstanceUID = value
    ds.save_as(target)`;
  const jobs = BAD_FILES.map((bad, i) => [study.files[i + 1]!, join(dir, `${bad.name}.dcm`), bad.keyword, bad.value]);
  const made = await run(PYTHON, ['-c', py], { input: JSON.stringify(jobs) });
  expect(made.code, made.stderr).toBe(0);
  badFiles.push(...jobs.map((job) => job[1]!));
});
afterAll(async () => {
  await removeStudy(study.dir);
  await rm(dir, { recursive: true, force: true });
});

describe('UIDs that are not UIDs', () => {
  let bridge: BridgeProcess;
  beforeAll(async () => {
    bridge = await startBridgeProcess({ env: { PUBLISH_DEBOUNCE_MS: '100', LOG_LEVEL: 'info' } });
  });
  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
  });

  it('refuses them with C000H and an Error Comment naming the attribute (storescu), stores nothing of them', async () => {
    const sent = await run('storescu', ['-d', '-nh', '-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort), study.files[0]!, ...badFiles], {
      timeoutMs: 60_000,
    });
    const out = sent.stdout + sent.stderr;
    expect(statuses(out)).toEqual([0x0000, ...BAD_FILES.map(() => 0xc000)]);
    const comments = errorComments(out);
    expect(comments).toHaveLength(BAD_FILES.length);
    for (const [i, bad] of BAD_FILES.entries()) {
      expect(comments[i], bad.name).toMatch(bad.attribute);
      expect(comments[i], bad.name).toMatch(bad.problem);
    }

    // The acknowledged instance is queued; the aggregator merges it a moment later.
    let body: Array<{ studyInstanceUid: string }> = [];
    for (let i = 0; i < 100 && body.length === 0; i++) {
      ({ body } = await bridge.get('/studies'));
      if (body.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body.map((s: { studyInstanceUid: string }) => s.studyInstanceUid)).toEqual([study.studyInstanceUid]);
    const { body: one } = await bridge.get(`/studies/${study.studyInstanceUid}`);
    expect(one.numberOfInstances).toBe(1);
    expect(one.numberOfSeries).toBe(1);

    const echo = await run('echoscu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort)]);
    expect(echo.code).toBe(0);
    const refused = bridge
      .output()
      .split('\n')
      .filter((l) => l.includes('"C-STORE refused"'))
      .map((l) => JSON.parse(l) as { status: string; reason: string });
    expect(refused.map((l) => l.status)).toEqual(BAD_FILES.map(() => 'C000'));
    expect(refused.every((l, i) => BAD_FILES[i]!.attribute.test(l.reason))).toBe(true);
  });

  it('refuses a UID with a space in it and takes trimmed padding (raw peer: DCMTK would remove the space)', async () => {
    const peer = await RawPeer.open(bridge.dicomPort);
    const ac = await peer.associate(associateRq(bridge.aeTitle, [{ id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_LE] }], 'MODALITY'));
    expect(ac?.type).toBe('A-ASSOCIATE-AC');
    const root = '1.2.826.0.1.3680043.8.498.77';

    const spaced = await peer.request(1, cStoreRq(1, CT_IMAGE_STORAGE, `${root}.3`), ctDataSet({ study: '1.2.3 4', series: `${root}.2`, sop: `${root}.3` }));
    expect(isCommand(spaced) && spaced.status).toBe(0xc000);
    expect(isCommand(spaced) && spaced.errorComment).toMatch(/^Study Instance UID \(0020,000D\) invalid: not digits and dots$/);

    // Trailing NUL (the UI padding), trailing and leading spaces: trimmed, then valid.
    const padded = await peer.request(
      1,
      cStoreRq(2, CT_IMAGE_STORAGE, `${root}.13`),
      ctDataSet({ study: Buffer.from(`${root}.11\0`, 'latin1'), series: Buffer.from(` ${root}.12  `, 'latin1'), sop: Buffer.from(`${root}.13 `, 'latin1') }),
    );
    expect(isCommand(padded) && padded.status).toBe(0x0000);
    await peer.release();

    // Acknowledged once queued; the study appears once the aggregator took the record.
    const body = await eventually(async () => {
      const answer = await bridge.get(`/studies/${root}.11`);
      return answer.status === 200 ? answer.body : undefined;
    });
    expect(body.numberOfInstances).toBe(1);
    expect((await bridge.get('/studies/1.2.3%204')).status).toBe(404);
  });
});
