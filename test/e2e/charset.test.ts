/**
 * Specific Character Set values that do not conform, end to end: files
 * written with pydicom, sent with storescu to the bridge process; the
 * ImagingStudy and the Patient of the built-in endpoint must carry the Patient
 * ID and name pydicom reads from the same file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientId } from '../../src/fhir/resource-ids.js';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { run } from '../support/run.js';
import { published, storescu } from './helpers.js';

const SYSTEM = 'urn:oid:1.2.250.1.999.1';

/**
 * Writes one Secondary Capture instance with the given (0008,0005) and raw
 * Patient Name / Patient ID bytes (hex), and prints what pydicom reads back.
 */
const WRITE_AND_READ = `
import json, sys, warnings
import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
warnings.simplefilter('ignore')
out, charset, name, pid = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4])
sop = generate_uid()
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
meta.MediaStorageSOPInstanceUID = sop
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.add(DataElement(0x00080005, 'CS', charset.split('\\\\') if '\\\\' in charset else charset))
ds.SOPClassUID = meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = sop
ds.StudyInstanceUID = generate_uid()
ds.SeriesInstanceUID = generate_uid()
ds.add(DataElement(0x00100010, 'PN', name))
ds.add(DataElement(0x00100020, 'LO', pid))
ds.Modality = 'OT'
ds.is_little_endian = True
ds.is_implicit_VR = False
ds.save_as(out, write_like_original=False)
back = pydicom.dcmread(out)
print(json.dumps({'charset': back[0x00080005].value if isinstance(back[0x00080005].value, str) else '\\\\'.join(back[0x00080005].value),
                  'study': str(back.StudyInstanceUID), 'sop': str(back.SOPInstanceUID), 'id': str(back.PatientID), 'name': str(back.PatientName)}, ensure_ascii=False))
`;

interface Written {
  file: string;
  charset: string;
  study: string;
  sop: string;
  /** What pydicom reads. */
  id: string;
  name: string;
}

const esc = (text: string): Buffer => Buffer.from(text.replace(/\$B|\(B/g, (s) => `\x1b${s}`), 'latin1');

describe('a lone ISO 2022 IR 87 and an undecodable Patient ID through the bridge', () => {
  let bridge: BridgeProcess;
  let dir: string;

  async function write(name: string, charset: string, patientName: Buffer, pid: Buffer): Promise<Written> {
    const file = join(dir, `${name}.dcm`);
    const r = await run('/usr/bin/python3', ['-c', WRITE_AND_READ, file, charset, patientName.toString('hex'), pid.toString('hex')]);
    expect(r.code, r.stderr).toBe(0);
    return { file, ...(JSON.parse(r.stdout) as Omit<Written, 'file'>) };
  }

  async function patientOf(id: string): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${bridge.httpPort}/fhir/Patient/${patientId({ system: SYSTEM, value: id })}`);
    expect(res.status).toBe(200);
    return res.json();
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'charset-e2e-'));
    bridge = await startBridgeProcess({ env: { PUBLISH_DEBOUNCE_MS: '100', FHIR_PATIENT_ID_SYSTEM: SYSTEM } });
  });
  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads (0008,0005) = "ISO 2022 IR 87" as pydicom does: the ASCII Patient ID stays ASCII, the name keeps its three groups', async () => {
    const sent = await write('lone-ir87', 'ISO 2022 IR 87', esc('Yamada^Tarou=$B;3ED(B^$BB@O:(B=$B$d$^$@(B^$B$?$m$&(B'), Buffer.from('PID-12345'));
    // pydicom, the reference: a single value, read as ASCII until an escape sequence.
    expect(sent).toMatchObject({ charset: 'ISO 2022 IR 87', id: 'PID-12345', name: 'Yamada^Tarou=山田^太郎=やまだ^たろう' });

    const stored = await storescu(bridge, [sent.file]);
    expect(stored.code, stored.stdout + stored.stderr).toBe(0);
    const summary = await published(bridge, sent.study, 1);
    const study = summary.lastResource;
    expect(study.resourceType).toBe('ImagingStudy');
    expect(study.subject).toEqual({ type: 'Patient', identifier: { system: SYSTEM, value: sent.id }, display: 'Tarou Yamada' });

    const patient = await patientOf(sent.id);
    expect(patient.identifier).toEqual([expect.objectContaining({ system: SYSTEM, value: 'PID-12345' })]);
    const names = (patient.name as { family?: string; given?: string[] }[]).map((n) => [n.family, n.given?.[0]]);
    expect(names).toEqual([
      ['Yamada', 'Tarou'],
      ['山田', '太郎'],
      ['やまだ', 'たろう'],
    ]);
    expect(bridge.output()).not.toContain('kept as its bytes');
  });

  it('keeps a Patient ID that does not decode (invalid UTF-8) as its bytes, and logs the instance without patient data', async () => {
    const sent = await write('bad-utf8', 'ISO_IR 192', Buffer.from('Doe^Jane'), Buffer.from([0x50, 0x49, 0x44, 0x2d, 0xff, 0x37]));
    const stored = await storescu(bridge, [sent.file]);
    expect(stored.code, stored.stdout + stored.stderr).toBe(0);
    const summary = await published(bridge, sent.study, 1);
    // One character per byte: the ID the sender's bytes spell, not U+FFFD.
    expect(summary.lastResource.subject.identifier).toEqual({ system: SYSTEM, value: 'PID-\u00ff7' });
    expect(summary.lastResource.subject.display).toBe('Jane Doe');

    const line = bridge
      .output()
      .split('\n')
      .find((l) => l.includes('kept as its bytes'));
    expect(line, bridge.output()).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 40, sopInstanceUid: sent.sop, specificCharacterSet: 'ISO_IR 192', attributes: ['PatientID'] });
    expect(line).not.toMatch(/PID|Doe|Jane/);
  });
});
