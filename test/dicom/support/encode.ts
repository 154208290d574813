/** A small DICOM dataset encoder for tests (PS3.5 Section 7). */

export interface Encoding {
  explicitVr: boolean;
  littleEndian: boolean;
}

export const EXPLICIT_LE: Encoding = { explicitVr: true, littleEndian: true };
export const IMPLICIT_LE: Encoding = { explicitVr: false, littleEndian: true };
export const EXPLICIT_BE: Encoding = { explicitVr: true, littleEndian: false };

export interface Element {
  /** 0xGGGGEEEE */
  tag: number;
  vr: string;
  /** A string (padded to even length), raw bytes, or sequence items. */
  value: string | Uint8Array | Element[][];
  /** Encode with undefined length (sequences, encapsulated pixel data). */
  undefinedLength?: boolean;
  /** Encode the items of a sequence with undefined length. */
  undefinedItems?: boolean;
  /** For encapsulated pixel data: the fragments. */
  fragments?: Uint8Array[];
}

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

export function el(tag: number, vr: string, value: Element['value'], extra: Partial<Element> = {}): Element {
  return { tag, vr, value, ...extra };
}

export function encode(elements: Element[], enc: Encoding): Buffer {
  return Buffer.concat(elements.map((e) => encodeElement(e, enc)));
}

function u16(n: number, enc: Encoding): Buffer {
  const b = Buffer.alloc(2);
  if (enc.littleEndian) b.writeUInt16LE(n);
  else b.writeUInt16BE(n);
  return b;
}

function u32(n: number, enc: Encoding): Buffer {
  const b = Buffer.alloc(4);
  if (enc.littleEndian) b.writeUInt32LE(n);
  else b.writeUInt32BE(n);
  return b;
}

function tagBytes(tag: number, enc: Encoding): Buffer {
  return Buffer.concat([u16(tag >>> 16, enc), u16(tag & 0xffff, enc)]);
}

function item(body: Buffer, undefinedLength: boolean, enc: Encoding): Buffer {
  if (!undefinedLength) return Buffer.concat([tagBytes(0xfffee000, enc), u32(body.length, enc), body]);
  return Buffer.concat([tagBytes(0xfffee000, enc), u32(UNDEFINED, enc), body, tagBytes(0xfffee00d, enc), u32(0, enc)]);
}

function encodeElement(e: Element, enc: Encoding): Buffer {
  let body: Buffer;
  // UN of undefined length carries Implicit VR Little Endian (PS3.5 6.2.2).
  const inner = e.vr === 'UN' && e.undefinedLength ? IMPLICIT_LE : enc;
  if (e.fragments) {
    body = Buffer.concat([
      ...e.fragments.map((f) => item(Buffer.from(f), false, enc)),
      tagBytes(0xfffee0dd, enc),
      u32(0, enc),
    ]);
  } else if (Array.isArray(e.value)) {
    body = Buffer.concat(e.value.map((items) => item(encode(items, inner), !!e.undefinedItems, inner)));
    if (e.undefinedLength) body = Buffer.concat([body, tagBytes(0xfffee0dd, inner), u32(0, inner)]);
  } else if (typeof e.value === 'string') {
    body = Buffer.from(e.value, 'latin1');
    if (body.length % 2) body = Buffer.concat([body, Buffer.from(e.vr === 'UI' ? [0] : [0x20])]);
  } else {
    body = Buffer.from(e.value);
  }
  const length = e.undefinedLength || e.fragments ? UNDEFINED : body.length;
  const parts = [tagBytes(e.tag, enc)];
  if (!enc.explicitVr) parts.push(u32(length, enc));
  else if (LONG.has(e.vr)) parts.push(Buffer.from(e.vr, 'latin1'), Buffer.alloc(2), u32(length, enc));
  else parts.push(Buffer.from(e.vr, 'latin1'), u16(length, enc));
  parts.push(body);
  return Buffer.concat(parts);
}

/** Deterministic PRNG (mulberry32) for fragment sizes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits bytes into views of random sizes in [min, max]. */
export function* fragments(bytes: Buffer, random: () => number, min = 1, max = 70_000): Generator<Buffer> {
  let offset = 0;
  while (offset < bytes.length) {
    const size = min + Math.floor(random() * (max - min + 1));
    yield bytes.subarray(offset, Math.min(bytes.length, offset + size));
    offset += size;
  }
}
