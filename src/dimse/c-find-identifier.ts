/**
 * C-FIND identifiers (PS3.4 C.4.1.1.3, PS3.7 9.1.2): the data set sent with
 * a C-FIND-RQ and the ones that come back with its pending responses, in the
 * transfer syntax of the presentation context (Explicit or Implicit VR
 * Little Endian). Encoding writes query keys (a value to match, or zero
 * length: universal matching, return the attribute); decoding splits a
 * response into its top-level elements as raw bytes, so the identifiers of
 * the STUDY, SERIES and IMAGE levels merge into one data set that the
 * C-STORE reader (dicom/dataset-sink.ts) turns into a record.
 */
import { encodeElement, LONG_FORM_VRS } from '../dicom/element-encoding.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './constants.js';

export type QueryLevel = 'STUDY' | 'SERIES' | 'IMAGE';

export interface QueryKey {
  /** (group << 16 | element) */
  tag: number;
  vr: string;
  /** Matching value; absent: zero length (universal matching, a return key). */
  value?: string;
}

export class IdentifierError extends Error {
  override name = 'IdentifierError';
}

/** Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1). */
const UNDEFINED_LENGTH = 0xffffffff;
const QUERY_RETRIEVE_LEVEL = 0x00080052;
const SPECIFIC_CHARACTER_SET = 0x00080005;

export function isExplicitVr(transferSyntaxUid: string): boolean {
  if (transferSyntaxUid === IMPLICIT_VR_LITTLE_ENDIAN) return false;
  if (transferSyntaxUid === EXPLICIT_VR_LITTLE_ENDIAN) return true;
  throw new IdentifierError(`transfer syntax ${transferSyntaxUid} is not one a C-FIND identifier is encoded in here`);
}

function keyElement(key: QueryKey, explicit: boolean, charsetUtf8: boolean): Buffer {
  return encodeElement(key.tag, key.vr, Buffer.from(key.value ?? '', charsetUtf8 ? 'utf8' : 'latin1'), explicit);
}

/**
 * The identifier of a query at `level`: Query/Retrieve Level, the keys in
 * ascending tag order, and Specific Character Set ISO_IR 192 when a value is
 * not ASCII (else none: the default repertoire).
 */
export function encodeIdentifier(level: QueryLevel, keys: readonly QueryKey[], transferSyntaxUid: string): Buffer {
  const explicit = isExplicitVr(transferSyntaxUid);
  const utf8 = keys.some((k) => k.value !== undefined && /[^\x20-\x7e]/.test(k.value));
  const all = new Map<number, QueryKey>();
  for (const k of keys) all.set(k.tag, k);
  all.set(QUERY_RETRIEVE_LEVEL, { tag: QUERY_RETRIEVE_LEVEL, vr: 'CS', value: level });
  if (utf8) all.set(SPECIFIC_CHARACTER_SET, { tag: SPECIFIC_CHARACTER_SET, vr: 'CS', value: 'ISO_IR 192' });
  else all.delete(SPECIFIC_CHARACTER_SET);
  return Buffer.concat([...all.values()].sort((a, b) => a.tag - b.tag).map((k) => keyElement(k, explicit, utf8)));
}

/** Where the element at `off` ends (its value skipped; undefined-length sequences and items walked to their delimiters). */
function elementEnd(ds: Buffer, off: number, explicit: boolean): { tag: number; end: number; valueStart: number; length: number } {
  if (ds.length - off < 8) throw new IdentifierError('identifier truncated in an element header');
  const group = ds.readUInt16LE(off);
  const tag = ((group << 16) | ds.readUInt16LE(off + 2)) >>> 0;
  let length: number;
  let valueStart: number;
  let vr = '';
  if (group === 0xfffe || !explicit) {
    // Items and delimiters have no VR in any syntax.
    length = ds.readUInt32LE(off + 4);
    valueStart = off + 8;
  } else {
    vr = ds.toString('latin1', off + 4, off + 6);
    if (LONG_FORM_VRS.has(vr)) {
      if (ds.length - off < 12) throw new IdentifierError('identifier truncated in an element header');
      length = ds.readUInt32LE(off + 8);
      valueStart = off + 12;
    } else {
      length = ds.readUInt16LE(off + 6);
      valueStart = off + 8;
    }
  }
  if (length !== UNDEFINED_LENGTH) {
    if (valueStart + length > ds.length) throw new IdentifierError(`element ${hex(tag)} overruns the identifier`);
    return { tag, end: valueStart + length, valueStart, length };
  }
  // Undefined length: a sequence (or an item) up to its delimitation item.
  const closing = tag === 0xfffee000 ? 0xfffee00d : 0xfffee0dd;
  let p = valueStart;
  for (;;) {
    if (ds.length - p < 8) throw new IdentifierError(`undefined-length element ${hex(tag)} without its delimiter`);
    const t = ((ds.readUInt16LE(p) << 16) | ds.readUInt16LE(p + 2)) >>> 0;
    if (t === closing) return { tag, end: p + 8, valueStart, length: p - valueStart };
    p = elementEnd(ds, p, explicit).end;
  }
}

const hex = (tag: number): string => `(${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')})`.toUpperCase();

/** The top-level elements of an identifier, raw (header and value), by tag. */
export function splitIdentifier(ds: Buffer, transferSyntaxUid: string): Map<number, { raw: Buffer; value: Buffer }> {
  const explicit = isExplicitVr(transferSyntaxUid);
  const out = new Map<number, { raw: Buffer; value: Buffer }>();
  for (let off = 0; off < ds.length; ) {
    const e = elementEnd(ds, off, explicit);
    out.set(e.tag, { raw: ds.subarray(off, e.end), value: ds.subarray(e.valueStart, e.valueStart + e.length) });
    off = e.end;
  }
  return out;
}

/** A text value of a split identifier (UI, CS, DA, IS ...), trimmed of padding; undefined when absent or empty. */
export function textValue(elements: Map<number, { value: Buffer }>, tag: number): string | undefined {
  const v = elements.get(tag)?.value;
  if (v === undefined) return undefined;
  const text = v.toString('latin1').replace(/[\0 ]+$/, '').trim();
  return text === '' ? undefined : text;
}

/**
 * One data set of the identifiers of several levels (study, series, image):
 * a later one's element replaces an earlier one's of the same tag unless it
 * is empty (an SCP that returns a key empty at one level erases nothing it
 * gave at another). Query/Retrieve Level is left out: it is no attribute of
 * the instance. Throws when two levels name different Specific Character
 * Sets (their bytes could not be read with one); a level without one is in
 * the default repertoire, which every other contains.
 */
export function mergeIdentifiers(identifiers: readonly Map<number, { raw: Buffer; value: Buffer }>[]): Buffer {
  const merged = new Map<number, { raw: Buffer; value: Buffer }>();
  const charsets = new Set<string>();
  for (const elements of identifiers) {
    const charset = textValue(elements, SPECIFIC_CHARACTER_SET);
    if (charset !== undefined) charsets.add(charset);
    for (const [tag, element] of elements) {
      if (tag === QUERY_RETRIEVE_LEVEL) continue;
      if (element.value.length === 0 && merged.has(tag)) continue;
      merged.set(tag, element);
    }
  }
  if (charsets.size > 1)
    throw new IdentifierError(`the levels' responses have different Specific Character Sets (${[...charsets].join(', ')})`);
  return Buffer.concat([...merged.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e.raw));
}
