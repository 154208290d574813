/**
 * Attributes read for the mapping of issue 19 (items 2, 4, 8, 10): the encoded DICOM elements in, the
 * record's fields out; plus the real pydicom files that carry them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DatasetHeaderSink } from '../../src/dicom/dataset-sink.js';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { EXPLICIT_LE, el, encode, type Element } from './support/encode.js';
import { isPart10, splitPart10 } from './support/part10.js';

const TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const receipt = { callingAeTitle: 'A', calledAeTitle: 'B', peerAddress: '127.0.0.1', receivedAt: '2026-01-01T00:00:00.000Z' };

const required = (): Element[] => [
  el(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.481.3'),
  el(0x00080018, 'UI', '1.2.3.9'),
  el(0x0020000d, 'UI', '1.2.3'),
  el(0x0020000e, 'UI', '1.2.3.1'),
];

async function recordOf(dataset: Buffer, transferSyntaxUid: string): Promise<InstanceRecord> {
  const sink = new DatasetHeaderSink({ transferSyntaxUid, headerCapBytes: 1 << 20 });
  sink.write(dataset);
  return sink.finish(receipt);
}

const recordOfElements = (elements: Element[]) => recordOf(encode([...required(), ...elements].sort((a, b) => a.tag - b.tag), EXPLICIT_LE), '1.2.840.10008.1.2.1');

/** A pydicom test file: Part 10, or a raw dataset in implicit VR little endian (rtstruct.dcm has no meta header). */
async function recordOfFile(name: string): Promise<InstanceRecord> {
  const file = readFileSync(`${TEST_FILES}/${name}`);
  const p = isPart10(file) ? splitPart10(file) : { dataset: file, transferSyntaxUid: '1.2.840.10008.1.2' };
  return recordOf(p.dataset, p.transferSyntaxUid);
}

const cases: Array<[string, Element[], (r: InstanceRecord) => unknown, unknown]> = [
  ['(3006,0002) Structure Set Label', [el(0x30060002, 'SH', 'PLAN A ')], (r) => r.instance.structureSetLabel, 'PLAN A'],
  ['(0040,0243) Performed Location', [el(0x00400243, 'SH', 'CT room 3 ')], (r) => r.study.performedLocation, 'CT room 3'],
  ['(0008,1040) Institutional Department Name', [el(0x00081040, 'LO', 'Radiology ')], (r) => r.study.institutionalDepartmentName, 'Radiology'],
  ['(0010,0030) partial birth date kept raw', [el(0x00100030, 'DA', '1970')], (r) => r.patient.patientBirthDate, '1970'],
  [
    '(0008,2218) Anatomic Region Sequence, first item',
    [el(0x00082218, 'SQ', [[el(0x00080100, 'SH', '72696002'), el(0x00080102, 'SH', 'SCT '), el(0x00080104, 'LO', 'Knee')], [el(0x00080100, 'SH', 'X')]])],
    (r) => r.series.anatomicRegion,
    { codeValue: '72696002', codingSchemeDesignator: 'SCT', codeMeaning: 'Knee' },
  ],
  ['(0020,0062) Image Laterality, per instance and series', [el(0x00200062, 'CS', 'L ')], (r) => [r.instance.imageLaterality, r.series.imageLaterality], ['L', 'L']],
];

describe('attributes read for the mapping', () => {
  it.each(cases)('%s', async (_name, elements, pick, expected) => {
    expect(pick(await recordOfElements(elements))).toStrictEqual(expected);
  });

  it("pydicom's rtstruct.dcm: Structure Set Label", async () => {
    expect((await recordOfFile('rtstruct.dcm')).instance.structureSetLabel).toBe('sep30');
  });
});
