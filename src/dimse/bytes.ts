/** Small big-endian reader/writer helpers for PDUs and items (PS3.8 Section 9.3: big endian). */

/** A PDU or item that cannot be decoded; `reason` is the A-ABORT reason/diag (PS3.8 Table 9-26). */
export class PduDecodeError extends Error {
  constructor(
    message: string,
    readonly reason: AbortReason = AbortReason.InvalidPduParameterValue,
  ) {
    super(message);
    this.name = 'PduDecodeError';
  }
}

/** A-ABORT source values (PS3.8 Table 9-26). */
export const AbortSource = { ServiceUser: 0, ServiceProvider: 2 } as const;
export type AbortSource = (typeof AbortSource)[keyof typeof AbortSource];

/** A-ABORT reason/diag values when the source is the service provider (PS3.8 Table 9-26). */
export const AbortReason = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameterValue: 6,
} as const;
export type AbortReason = (typeof AbortReason)[keyof typeof AbortReason];

export class ByteReader {
  offset = 0;
  constructor(readonly buf: Buffer) {}
  get remaining(): number {
    return this.buf.length - this.offset;
  }
  need(n: number, what: string): void {
    if (this.remaining < n) throw new PduDecodeError(`truncated ${what}: need ${n} bytes, have ${this.remaining}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.offset += n;
  }
}

/** A UID or name in an item: ASCII, trailing NUL/space padding dropped. */
export function decodeAscii(b: Buffer): string {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0 || b[end - 1] === 0x20)) end--;
  return b.toString('latin1', 0, end);
}

export function u16be(v: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(v, 0);
  return b;
}

/** An AE title field: 16 bytes, space padded (PS3.8 Table 9-11). */
export function encodeAeTitle(title: string): Buffer {
  const b = Buffer.alloc(16, 0x20);
  b.write(title.slice(0, 16), 0, 'latin1');
  return b;
}

/** AE titles compare after trimming leading and trailing spaces (PS3.5 AE VR). */
export function decodeAeTitle(b: Buffer): string {
  return b.toString('latin1').replace(/\0+$/, '').trim();
}
