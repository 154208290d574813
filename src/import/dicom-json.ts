/**
 * DICOM JSON (PS3.18 F.2) → a data set in explicit VR little endian, so a
 * WADO-RS /metadata answer goes through the same reader as a C-STORE
 * (dataset-sink.ts) and gives the same record. Strings are written in UTF-8
 * under Specific Character Set ISO_IR 192 (DICOM JSON values are Unicode).
 * Bulk data (BulkDataURI) is left out: never fetched.
 */
import { DatasetError, DatasetHeaderSink } from '../dicom/dataset-sink.js';
import { encodeElement, LONG_FORM_VRS } from '../dicom/element-encoding.js';
import type { InstanceRecord, ReceiptData } from '../dicom/instance-record.js';
import { NotDicomError } from './part10.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

interface JsonAttribute {
  vr?: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomJsonDataset = Record<string, JsonAttribute>;

const TAG = /^[0-9A-Fa-f]{8}$/;

function personName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return '';
  const pn = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
  return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
}

function numbers(values: unknown[], size: number, write: (b: Buffer, v: number, o: number) => void): Buffer {
  const out = Buffer.alloc(values.length * size);
  values.forEach((v, i) => write(out, Number(v), i * size));
  return out;
}

function valueBytes(vr: string, attribute: JsonAttribute): Buffer {
  if (attribute.InlineBinary !== undefined) return Buffer.from(attribute.InlineBinary, 'base64');
  const values = attribute.Value ?? [];
  switch (vr) {
    case 'SQ': {
      const items = values.map((item) => {
        const body = encodeDataset((item ?? {}) as DicomJsonDataset);
        const header = Buffer.alloc(8);
        header.writeUInt16LE(0xfffe, 0);
        header.writeUInt16LE(0xe000, 2);
        header.writeUInt32LE(body.length, 4);
        return Buffer.concat([header, body]);
      });
      return Buffer.concat(items);
    }
    case 'US':
      return numbers(values, 2, (b, v, o) => b.writeUInt16LE(v & 0xffff, o));
    case 'SS':
      return numbers(values, 2, (b, v, o) => b.writeInt16LE(v, o));
    case 'UL':
      return numbers(values, 4, (b, v, o) => b.writeUInt32LE(v >>> 0, o));
    case 'SL':
      return numbers(values, 4, (b, v, o) => b.writeInt32LE(v, o));
    case 'FL':
      return numbers(values, 4, (b, v, o) => b.writeFloatLE(v, o));
    case 'FD':
      return numbers(values, 8, (b, v, o) => b.writeDoubleLE(v, o));
    case 'AT':
      return numbers(values, 4, (b, v, o) => {
        b.writeUInt16LE(v >>> 16, o);
        b.writeUInt16LE(v & 0xffff, o + 2);
      });
    case 'PN':
      return Buffer.from(values.map(personName).join('\\'), 'utf8');
    default: {
      if (['OB', 'OW', 'OD', 'OF', 'OL', 'OV', 'UN', 'SV', 'UV'].includes(vr)) return Buffer.alloc(0);
      return Buffer.from(values.map((v) => (v === null || v === undefined ? '' : String(v))).join('\\'), 'utf8');
    }
  }
}

/** A DICOM JSON tag ("0020000D") as the element it names. */
function element(tag: string, vr: string, value: Buffer): Buffer {
  return encodeElement(parseInt(tag, 16), vr, value);
}

/** Encodes one DICOM JSON data set (explicit VR little endian, tags ascending, pixel data and bulk data left out). */
export function encodeDataset(json: DicomJsonDataset, topLevel = false): Buffer {
  const parts: Buffer[] = [];
  const tags = Object.keys(json)
    .filter((t) => TAG.test(t))
    .map((t) => t.toUpperCase())
    .sort();
  for (const tag of tags) {
    const attribute = (json[tag] ?? json[tag.toLowerCase()])!;
    const group = tag.slice(0, 4);
    if (group === '0002' || group === '7FE0' || attribute.BulkDataURI !== undefined) continue;
    if (tag === '00080005' && topLevel) continue;
    const vr = attribute.vr ?? 'UN';
    if (!/^[A-Z]{2}$/.test(vr)) throw new NotDicomError(`attribute ${tag} has no valid VR`);
    let value = valueBytes(vr, attribute);
    if (vr !== 'SQ' && value.length > 0xffff && !LONG_FORM_VRS.has(vr)) value = value.subarray(0, 0xfffe);
    parts.push(element(tag, vr, value));
  }
  if (topLevel) parts.unshift(element('00080005', 'CS', Buffer.from('ISO_IR 192')));
  return Buffer.concat(parts);
}

/** Whether a parsed JSON value is a DICOM JSON data set (an object of 8-hex-digit tags with a vr). */
export function isDicomJsonDataset(value: unknown): value is DicomJsonDataset {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.entries(value).every(([k, v]) => TAG.test(k) && v !== null && typeof v === 'object');
}

/** The record of one DICOM JSON instance, as a C-STORE of it would give. Throws NotDicomError. */
export async function dicomJsonRecord(
  json: DicomJsonDataset,
  receipt: Omit<ReceiptData, 'transferSyntaxUid' | 'bytesReceived'>,
  headerCapBytes: number,
): Promise<InstanceRecord> {
  const bytes = encodeDataset(json, true);
  const sink = new DatasetHeaderSink({ transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN, headerCapBytes });
  try {
    sink.write(bytes);
    return await sink.finish(receipt);
  } catch (err) {
    if (err instanceof DatasetError) throw new NotDicomError(err.message);
    throw err;
  }
}
