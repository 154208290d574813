import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { KEY_OBJECT_SELECTION_SOP_CLASS, type KeyObjectDocument, type RejectionReason } from '../../src/dicom/key-object-document.js';

export const silentLogger = pino({ level: 'silent' });

export interface RecordSpec {
  study?: string;
  series?: string;
  sop: string;
  instanceNumber?: number;
  seriesNumber?: number;
  modality?: string;
  studyDescription?: string;
  seriesDescription?: string;
  patientId?: string;
  callingAeTitle?: string;
  receivedAt?: string;
}

/** A small instance record as the SCP would queue it. */
export function makeRecord(spec: RecordSpec): InstanceRecord {
  const record: InstanceRecord = {
    specificCharacterSet: 'ISO_IR 100',
    patient: { patientId: spec.patientId ?? 'P1', patientName: { alphabetic: 'Doe^Jane' }, patientSex: 'F' },
    study: { studyInstanceUid: spec.study ?? '1.2.3', studyDate: '20240115', studyTime: '101500' },
    series: { seriesInstanceUid: spec.series ?? '1.2.3.1', modality: spec.modality ?? 'CT' },
    instance: { sopInstanceUid: spec.sop, sopClassUid: '1.2.840.10008.5.1.4.1.1.2' },
    receipt: {
      callingAeTitle: spec.callingAeTitle ?? 'MODALITY',
      calledAeTitle: 'FHIRBRIDGE',
      peerAddress: '127.0.0.1',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      receivedAt: spec.receivedAt ?? '2024-01-15T10:20:00.000Z',
      bytesReceived: 1024,
    },
  };
  if (spec.instanceNumber !== undefined) record.instance.instanceNumber = spec.instanceNumber;
  if (spec.seriesNumber !== undefined) record.series.seriesNumber = spec.seriesNumber;
  if (spec.studyDescription !== undefined) record.study.studyDescription = spec.studyDescription;
  if (spec.seriesDescription !== undefined) record.series.seriesDescription = spec.seriesDescription;
  return record;
}

export async function tempDir(prefix = 'pipeline-test-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A manually advanced clock. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; set: (t: number) => void; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v), advance: (ms) => (t += ms) };
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const CT = '1.2.840.10008.5.1.4.1.1.2';

/** A KOS record (its own series `KO`) referencing instances; a rejection note when the title is one of the IOCM codes. */
export function kosRecord(spec: {
  sop: string;
  study?: string;
  series?: string;
  title: string;
  refs: Array<{ study?: string; series?: string; sop: string }>;
  receivedAt?: string;
}): InstanceRecord {
  const base: RecordSpec = { sop: spec.sop, series: spec.series ?? 'KO', modality: 'KO', instanceNumber: 1, seriesNumber: 99 };
  if (spec.study !== undefined) base.study = spec.study;
  if (spec.receivedAt !== undefined) base.receivedAt = spec.receivedAt;
  const record = makeRecord(base);
  const rejection = (['113001', '113037', '113038', '113039'] as const).find((c) => c === spec.title);
  record.instance.sopClassUid = KEY_OBJECT_SELECTION_SOP_CLASS;
  record.instance.conceptNameCode = { codeValue: spec.title, codingSchemeDesignator: 'DCM', codeMeaning: `title ${spec.title}` };
  const document: KeyObjectDocument = {
    title: record.instance.conceptNameCode,
    isRejection: rejection !== undefined,
    references: spec.refs.map((r) => ({
      studyInstanceUid: r.study ?? '1.2.3',
      seriesInstanceUid: r.series ?? '1.2.3.1',
      sopClassUid: CT,
      sopInstanceUid: r.sop,
    })),
  };
  if (rejection) document.rejectionReason = rejection as RejectionReason;
  record.keyObject = document;
  return record;
}
