/**
 * Key Object Selection Documents read through the real DatasetHeaderSink:
 * the dump2dcm fixtures in fixtures/kos/ (in the three uncompressed transfer
 * syntaxes) and documents written at test time by fixtures/make-kos.py.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetHeaderSink } from '../../src/dicom/dataset-sink.js';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { KEY_OBJECT_SELECTION_SOP_CLASS, rejectionReasonOf } from '../../src/dicom/key-object-document.js';
import { run } from '../support/run.js';
import { splitPart10 } from './support/part10.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const STUDY = '1.2.826.0.1.3680043.8.498.10.1';
const CT_SERIES = `${STUDY}.1`;
const US_SERIES = `${STUDY}.2`;
const CT = '1.2.840.10008.5.1.4.1.1.2';
const US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3.1';
const SEG = '1.2.840.10008.5.1.4.1.1.66.4';

const receipt = { callingAeTitle: 'PACS', calledAeTitle: 'BRIDGE', peerAddress: '127.0.0.1', receivedAt: '2024-07-06T07:15:00.000Z' };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kos-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function recordOf(file: string): Promise<InstanceRecord> {
  const { transferSyntaxUid, dataset } = splitPart10(readFileSync(file));
  const sink = new DatasetHeaderSink({ transferSyntaxUid, headerCapBytes: 1 << 20 });
  // A few fragments, as P-DATA would deliver them.
  for (let i = 0; i < dataset.length; i += 300) sink.write(dataset.subarray(i, i + 300));
  return sink.finish(receipt);
}

async function dump2dcm(name: string, syntaxOption: string): Promise<string> {
  const out = join(dir, `${name}${syntaxOption}.dcm`);
  const r = await run('dump2dcm', [syntaxOption, join(FIXTURES, 'kos', `${name}.dump`), out]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return out;
}

let counter = 0;
async function makeKos(args: string[]): Promise<string> {
  const out = join(dir, `generated-${++counter}.dcm`);
  const r = await run('/usr/bin/python3', [join(FIXTURES, 'make-kos.py'), '--out', out, ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return out;
}

describe('KOS fixtures (dump2dcm) through the DatasetHeaderSink', () => {
  it.each(['+te', '+ti', '+tb'])('For Report Attachment (113020), %s: title, author, time, references with frames', async (ts) => {
    const record = await recordOf(await dump2dcm('report-attachment', ts));
    expect(record.instance).toMatchObject({ sopClassUid: KEY_OBJECT_SELECTION_SOP_CLASS, sopInstanceUid: `${STUDY}.90.1`, instanceNumber: 1 });
    expect(record.series).toMatchObject({ seriesInstanceUid: `${STUDY}.90`, seriesNumber: 90, modality: 'KO' });
    expect(record.study.studyInstanceUid).toBe(STUDY);
    expect(record.keyObject).toEqual({
      title: { codeValue: '113020', codingSchemeDesignator: 'DCM', codeMeaning: 'For Report Attachment' },
      isRejection: false,
      description: 'Images attached to the report of 2024-07-06',
      contentDate: '20240706',
      contentTime: '091500',
      observer: { alphabetic: 'Smith^John^^Dr' },
      references: [
        {
          studyInstanceUid: STUDY,
          seriesInstanceUid: CT_SERIES,
          sopClassUid: CT,
          sopInstanceUid: `${CT_SERIES}.1`,
          retrieveAeTitle: 'PACS_A',
          retrieveUrl: `https://pacs.example.org/dicom-web/studies/${STUDY}/series/${CT_SERIES}`,
        },
        {
          studyInstanceUid: STUDY,
          seriesInstanceUid: CT_SERIES,
          sopClassUid: CT,
          sopInstanceUid: `${CT_SERIES}.2`,
          retrieveAeTitle: 'PACS_A',
          retrieveUrl: `https://pacs.example.org/dicom-web/studies/${STUDY}/series/${CT_SERIES}`,
        },
        {
          studyInstanceUid: STUDY,
          seriesInstanceUid: US_SERIES,
          sopClassUid: US_MULTIFRAME,
          sopInstanceUid: `${US_SERIES}.1`,
          frames: [1, 3, 5],
          retrieveAeTitle: 'PACS_A',
        },
      ],
    });
    // The KOS stays an instance of the study: its title reaches instance.title through conceptNameCode.
    expect(record.instance.conceptNameCode).toEqual({ codeValue: '113020', codingSchemeDesignator: 'DCM', codeMeaning: 'For Report Attachment' });
  });

  it('Rejected for Quality Reasons (113001): a rejection note over 3 instances, no observer, no description', async () => {
    const record = await recordOf(await dump2dcm('rejection-quality', '+te'));
    const kos = record.keyObject!;
    expect(kos.title).toEqual({ codeValue: '113001', codingSchemeDesignator: 'DCM', codeMeaning: 'Rejected for Quality Reasons' });
    expect(kos.isRejection).toBe(true);
    expect(kos.rejectionReason).toBe('113001');
    expect(kos.description).toBeUndefined();
    expect(kos.observer).toBeUndefined();
    expect(kos.references.map((r) => [r.seriesInstanceUid, r.sopInstanceUid, r.frames])).toEqual([
      [CT_SERIES, `${CT_SERIES}.1`, undefined],
      [CT_SERIES, `${CT_SERIES}.2`, undefined],
      [US_SERIES, `${US_SERIES}.1`, undefined],
    ]);
  });
});

describe('KOS written by make-kos.py', () => {
  const S1 = '1.2.826.0.1.3680043.8.498.20.1';
  const S2 = '1.2.826.0.1.3680043.8.498.20.2';
  const STUDY2 = '1.2.826.0.1.3680043.8.498.20';

  it.each([
    ['113037', 'Rejected for Patient Safety Reasons'],
    ['113038', 'Incorrect Modality Worklist Entry'],
    ['113039', 'Data Retention Policy Expired'],
  ] as const)('title %s is a rejection note', async (code, meaning) => {
    const file = await makeKos(['--study-uid', STUDY2, '--title', code, '--ref', `${S1},${CT},${S1}.1`]);
    const kos = (await recordOf(file)).keyObject!;
    expect(kos.title).toEqual({ codeValue: code, codingSchemeDesignator: 'DCM', codeMeaning: meaning });
    expect(kos.isRejection).toBe(true);
    expect(kos.rejectionReason).toBe(code);
  });

  it('a rejection code under another scheme is not a rejection note', async () => {
    const file = await makeKos(['--study-uid', STUDY2, '--title', '113001', '--title-scheme', '99LOCAL', '--title-meaning', 'Bad', '--ref', `${S1},${CT},${S1}.1`]);
    const kos = (await recordOf(file)).keyObject!;
    expect(kos.isRejection).toBe(false);
    expect(kos.rejectionReason).toBeUndefined();
  });

  it('merges repeated content references: frames are united, a whole-instance reference wins, segments are read (US)', async () => {
    const file = await makeKos([
      '--study-uid', STUDY2,
      '--ref', `${S1},${US_MULTIFRAME},${S1}.1,4/2`,
      '--ref', `${S1},${US_MULTIFRAME},${S1}.1,2/9`,
      '--ref', `${S1},${US_MULTIFRAME},${S1}.2,7`,
      '--ref', `${S1},${US_MULTIFRAME},${S1}.2`,
      '--ref', `${S2},${SEG},${S2}.1,s3/1`,
    ]);
    const refs = (await recordOf(file)).keyObject!.references;
    expect(refs.map((r) => [r.sopInstanceUid, r.frames, r.segments])).toEqual([
      [`${S1}.1`, [2, 4, 9], undefined],
      [`${S1}.2`, undefined, undefined],
      [`${S2}.1`, undefined, [1, 3]],
    ]);
  });

  it('segment numbers (US) are read in big endian too', async () => {
    const file = await makeKos(['--study-uid', STUDY2, '--ref', `${S2},${SEG},${S2}.1,s2/300`]);
    const big = join(dir, 'segments-big.dcm');
    const r = await run('dcmconv', ['+tb', file, big]);
    expect(r.code).toBe(0);
    const record = await recordOf(big);
    expect(record.receipt.transferSyntaxUid).toBe('1.2.840.10008.1.2.2');
    expect(record.keyObject!.references[0]!.segments).toEqual([2, 300]);
  });

  it('the observer and description come through with the dataset character set', async () => {
    const file = await makeKos(['--study-uid', STUDY2, '--observer', 'Müller^Jürgen', '--description', 'Befund für Dr. Ärztin', '--ref', `${S1},${CT},${S1}.1`]);
    const kos = (await recordOf(file)).keyObject!;
    expect(kos.observer).toEqual({ alphabetic: 'Müller^Jürgen' });
    expect(kos.description).toBe('Befund für Dr. Ärztin');
  });

  it('without the evidence sequence: the record is kept, without keyObject', async () => {
    const file = await makeKos(['--study-uid', STUDY2, '--no-evidence', '--ref', `${S1},${CT},${S1}.1`]);
    const record = await recordOf(file);
    expect(record.instance.sopClassUid).toBe(KEY_OBJECT_SELECTION_SOP_CLASS);
    expect(record.keyObject).toBeUndefined();
  });

  it('without content references: the evidence alone gives whole-instance references', async () => {
    const file = await makeKos(['--study-uid', STUDY2, '--no-content-refs', '--ref', `${S1},${CT},${S1}.1`, '--ref', `${S2},${CT},${S2}.1`]);
    const refs = (await recordOf(file)).keyObject!.references;
    expect(refs.map((r) => [r.seriesInstanceUid, r.sopInstanceUid, r.frames])).toEqual([
      [S1, `${S1}.1`, undefined],
      [S2, `${S2}.1`, undefined],
    ]);
  });
});

describe('rejectionReasonOf', () => {
  it('needs scheme DCM and one of the four IOCM codes', () => {
    expect(rejectionReasonOf({ codeValue: '113038', codingSchemeDesignator: 'DCM' })).toBe('113038');
    expect(rejectionReasonOf({ codeValue: '113020', codingSchemeDesignator: 'DCM' })).toBeUndefined();
    expect(rejectionReasonOf({ codeValue: '113001', codingSchemeDesignator: 'SRT' })).toBeUndefined();
    expect(rejectionReasonOf(undefined)).toBeUndefined();
  });
});
