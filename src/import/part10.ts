/**
 * Reads a DICOM Part 10 file (PS3.10 7.1: 128-byte preamble, "DICM", the
 * File Meta Information group 0002 in explicit VR little endian) into the
 * same InstanceRecord a C-STORE of it gives: the data set after the meta
 * group goes through the C-STORE sink (dataset-sink.ts) in the file's
 * transfer syntax, which keeps the header and drops the pixel data.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { DatasetError, DatasetHeaderSink } from '../dicom/dataset-sink.js';
import { LONG_FORM_VRS } from '../dicom/element-encoding.js';
import type { InstanceRecord, ReceiptData } from '../dicom/instance-record.js';

/** The file is not a DICOM Part 10 file, or its data set cannot be read. */
export class NotDicomError extends Error {
  override name = 'NotDicomError';
}

export interface FileMeta {
  /** (0002,0002) */
  mediaStorageSopClassUid?: string;
  /** (0002,0010) */
  transferSyntaxUid: string;
  /** Byte offset of the data set (just after the meta group). */
  dataSetOffset: number;
}

/** Media Storage Directory Storage (PS3.10 8.6): a DICOMDIR. */
export const MEDIA_STORAGE_DIRECTORY_SOP_CLASS = '1.2.840.10008.1.3.10';

/** Read up to this many bytes for the preamble and meta group. */
const META_READ_BYTES = 64 * 1024;

const text = (bytes: Buffer): string => bytes.toString('latin1').replace(/[\0 ]+$/, '');

/** Parses the preamble and File Meta Information of `head` (the first bytes of the file). */
export function parseFileMeta(head: Buffer): FileMeta {
  if (head.length < 132 || head.toString('latin1', 128, 132) !== 'DICM') throw new NotDicomError('not a DICOM Part 10 file (no DICM prefix)');
  let offset = 132;
  let transferSyntaxUid: string | undefined;
  let mediaStorageSopClassUid: string | undefined;
  while (offset + 8 <= head.length && head.readUInt16LE(offset) === 0x0002) {
    const element = head.readUInt16LE(offset + 2);
    const vr = head.toString('latin1', offset + 4, offset + 6);
    let length: number;
    let valueOffset: number;
    if (LONG_FORM_VRS.has(vr)) {
      if (offset + 12 > head.length) break;
      length = head.readUInt32LE(offset + 8);
      valueOffset = offset + 12;
    } else {
      length = head.readUInt16LE(offset + 6);
      valueOffset = offset + 8;
    }
    if (valueOffset + length > head.length) throw new NotDicomError('File Meta Information truncated or too long');
    const value = head.subarray(valueOffset, valueOffset + length);
    if (element === 0x0010) transferSyntaxUid = text(value);
    if (element === 0x0002) mediaStorageSopClassUid = text(value);
    offset = valueOffset + length;
  }
  if (!transferSyntaxUid) throw new NotDicomError('File Meta Information has no Transfer Syntax UID (0002,0010)');
  return { transferSyntaxUid, dataSetOffset: offset, ...(mediaStorageSopClassUid ? { mediaStorageSopClassUid } : {}) };
}

/** The preamble and meta group of a file. */
export async function readFileMeta(path: string): Promise<FileMeta> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(META_READ_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, META_READ_BYTES, 0);
    return parseFileMeta(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * The record of one Part 10 file, as a C-STORE of it would give, with
 * `receipt` (source, AE titles, receivedAt). Throws NotDicomError.
 */
export async function readPart10Record(
  path: string,
  receipt: Omit<ReceiptData, 'transferSyntaxUid' | 'bytesReceived'>,
  headerCapBytes: number,
): Promise<{ meta: FileMeta; record: InstanceRecord }> {
  const meta = await readFileMeta(path);
  const sink = new DatasetHeaderSink({ transferSyntaxUid: meta.transferSyntaxUid, headerCapBytes });
  try {
    for await (const chunk of createReadStream(path, { start: meta.dataSetOffset, highWaterMark: 256 * 1024 })) sink.write(chunk as Buffer);
    return { meta, record: await sink.finish(receipt) };
  } catch (err) {
    if (err instanceof DatasetError) throw new NotDicomError(err.message);
    throw err;
  }
}
