/**
 * pydicom's sample files (Debian python3-pydicom): each dataset, stripped of
 * its preamble and meta information, is fed to the sink in seeded random
 * fragments; the record must carry the UIDs pydicom reads, and the Patient
 * Name groups pydicom decodes. Deliberately broken files must give a
 * DatasetError or a record, never another exception.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, DatasetHeaderSink } from '../../src/dicom/dataset-sink.js';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { fragments, seededRandom } from './support/encode.js';
import { isPart10, splitPart10 } from './support/part10.js';

const DATA = '/usr/lib/python3/dist-packages/pydicom/data';
const HERE = dirname(fileURLToPath(import.meta.url));

interface Expected {
  path: string;
  part10: boolean;
  dcmdumpOk: boolean;
  pydicomOk: boolean;
  transferSyntax?: string | null;
  uids?: Record<'StudyInstanceUID' | 'SeriesInstanceUID' | 'SOPInstanceUID' | 'SOPClassUID', string | null>;
  patientName?: { alphabetic: string; ideographic: string; phonetic: string };
}

/** Datasets without Part 10 header, as an SCP receives them: their transfer syntax. */
const RAW_DATASETS: Record<string, string> = {
  'ExplVR_BigEndNoMeta.dcm': '1.2.840.10008.1.2.2',
  'ExplVR_LitEndNoMeta.dcm': '1.2.840.10008.1.2.1',
  'rtstruct.dcm': '1.2.840.10008.1.2',
  'no_meta.dcm': '1.2.840.10008.1.2',
};

/** Files pydicom or DCMTK reject, or that are cut short: a record or a DatasetError, nothing else. */
function isBroken(e: Expected): boolean {
  return !e.dcmdumpOk || !e.pydicomOk;
}

const receipt = {
  callingAeTitle: 'SCU',
  calledAeTitle: 'BRIDGE',
  peerAddress: '127.0.0.1',
  receivedAt: '2026-01-01T00:00:00.000Z',
};

async function feed(dataset: Buffer, transferSyntaxUid: string, seed: number): Promise<{ sink: DatasetHeaderSink; record: InstanceRecord }> {
  const sink = new DatasetHeaderSink({ transferSyntaxUid, headerCapBytes: 4 * 1024 * 1024 });
  const random = seededRandom(seed);
  for (const fragment of fragments(dataset, random, 1, random() < 0.5 ? 64 : 70_000)) sink.write(fragment);
  return { sink, record: await sink.finish(receipt) };
}

function datasetOf(e: Expected): { dataset: Buffer; transferSyntaxUid: string } | undefined {
  const file = readFileSync(e.path);
  if (isPart10(file)) return splitPart10(file);
  const transferSyntaxUid = RAW_DATASETS[basename(e.path)];
  return transferSyntaxUid ? { dataset: file, transferSyntaxUid } : undefined;
}

/** Same normal form as the sink: padding and trailing empty components dropped. */
function normalGroup(group: string): string | undefined {
  const text = group.replace(/[\s\0]+$/, '').replace(/\^+$/, '').trim();
  return text === '' ? undefined : text;
}

const expected: Expected[] = JSON.parse(
  execFileSync('/usr/bin/python3', [join(HERE, 'support/pydicom-expect.py'), join(DATA, 'test_files'), join(DATA, 'charset_files')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 1024 * 1024,
  }),
);
const readable = expected.filter((e) => !isBroken(e) && datasetOf(e));
const complete = readable.filter((e) => e.uids && Object.values(e.uids).every(Boolean));
const incomplete = readable.filter((e) => !complete.includes(e));
const broken = expected.filter((e) => isBroken(e) && datasetOf(e));
const named = complete.filter((e) => e.patientName);
const label = (e: Expected) => e.path.slice(DATA.length + 1);

describe('pydicom sample files', () => {
  beforeAll(() => {
    // The sample set must cover every encoding the sink handles.
    const syntaxes = new Set(complete.map((e) => datasetOf(e)!.transferSyntaxUid));
    for (const uid of [
      '1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99',
      '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.90',
    ]) {
      expect(syntaxes, uid).toContain(uid);
    }
  });

  it.each(complete.map((e, i) => [label(e), e, i] as const))('%s: record UIDs equal pydicom', async (_name, e, i) => {
    const { dataset, transferSyntaxUid } = datasetOf(e)!;
    const { sink, record } = await feed(dataset, transferSyntaxUid, 1000 + i);
    expect({
      study: record.study.studyInstanceUid,
      series: record.series.seriesInstanceUid,
      sop: record.instance.sopInstanceUid,
      sopClass: record.instance.sopClassUid,
    }).toEqual({
      study: e.uids!.StudyInstanceUID,
      series: e.uids!.SeriesInstanceUID,
      sop: e.uids!.SOPInstanceUID,
      sopClass: e.uids!.SOPClassUID,
    });
    expect(record.receipt.bytesReceived).toBe(dataset.length);
    expect(record.receipt.transferSyntaxUid).toBe(transferSyntaxUid);
    expect(sink.keptBytes).toBeGreaterThan(0);
  });

  // DICOMDIRs and test datasets without instance UIDs. (DICOMDIR-nooffset has
  // undefined-length items in a defined-length sequence, which dicom-parser
  // 1.8 rejects even as a whole file.)
  it.each(incomplete.map((e) => [label(e), e] as const))('%s: no instance UIDs gives C000', async (_name, e) => {
    const { dataset, transferSyntaxUid } = datasetOf(e)!;
    const error = await feed(dataset, transferSyntaxUid, 7).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).status).toBe(0xc000);
    const message = (error as DatasetError).message;
    if (basename(e.path) === 'DICOMDIR-nooffset') expect(message).toMatch(/^cannot parse dataset: /);
    else expect(message).toMatch(/^missing .* \([0-9A-F]{4},[0-9A-F]{4}\)$/);
  });

  it.each(broken.map((e) => [label(e), e] as const))('%s (broken): a record or a DatasetError', async (_name, e) => {
    const { dataset, transferSyntaxUid } = datasetOf(e)!;
    const outcome = await feed(dataset, transferSyntaxUid, 11).then(
      ({ record }) => record,
      (err: unknown) => err,
    );
    if (outcome instanceof DatasetError) {
      expect(outcome.status).toBeGreaterThanOrEqual(0xa700);
      expect(outcome.message.length).toBeLessThanOrEqual(64);
    } else {
      expect((outcome as InstanceRecord).study.studyInstanceUid).toMatch(/^[0-9.]+$/);
    }
  });

  it.each(named.map((e) => [label(e), e] as const))('%s: Patient Name groups equal pydicom', async (_name, e) => {
    const { dataset, transferSyntaxUid } = datasetOf(e)!;
    const { record } = await feed(dataset, transferSyntaxUid, 23);
    const want = {
      alphabetic: normalGroup(e.patientName!.alphabetic),
      ideographic: normalGroup(e.patientName!.ideographic),
      phonetic: normalGroup(e.patientName!.phonetic),
    };
    expect(record.patient.patientName ?? {}).toEqual(JSON.parse(JSON.stringify(want)));
  });

  it('decodes ISO 2022 IR 87 names (chrH31: Yamada^Tarou=山田^太郎=やまだ^たろう)', async () => {
    const { dataset, transferSyntaxUid } = splitPart10(readFileSync(join(DATA, 'charset_files/chrH31.dcm')));
    const { record } = await feed(dataset, transferSyntaxUid, 5);
    expect(record.specificCharacterSet).toBe('\\ISO 2022 IR 87');
    expect(record.patient.patientName).toEqual({ alphabetic: 'Yamada^Tarou', ideographic: '山田^太郎', phonetic: 'やまだ^たろう' });
  });
});
