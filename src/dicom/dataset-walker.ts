/**
 * Incremental walker over the top-level Data Elements of a dataset (PS3.5
 * Section 7), fed chunk by chunk with arbitrary split points. It copies
 * nothing: it only tracks where each element starts and ends so that the
 * sink knows where the header (everything before the first top-level
 * (7FE0,xxxx) element) ends, and whether the stream stopped on an element
 * boundary.
 *
 * Defined-length values, including defined-length sequences, are skipped as
 * opaque bytes. Undefined-length sequences and items (PS3.5 7.5.2) and
 * encapsulated Pixel Data (PS3.5 A.4) are walked item by item until their
 * delimiters, so a (7FE0,0010) nested in an item (e.g. Icon Image Sequence)
 * is never taken for the top-level one.
 */
import { LONG_FORM_VRS } from './element-encoding.js';

/** Thrown by the walker for a structurally invalid stream. */
export class DatasetStructureError extends Error {
  override name = 'DatasetStructureError';
}

const UNDEFINED_LENGTH = 0xffffffff;
const ITEM_GROUP = 0xfffe;
const ITEM = 0xe000;
const ITEM_DELIMITATION = 0xe00d;
const SEQUENCE_DELIMITATION = 0xe0dd;
const PIXEL_DATA_GROUP = 0x7fe0;

/** Explicit VRs with a 2-byte length (PS3.5 Table 7.1-2). */
const SHORT_FORM_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI',
  'UL', 'US',
]);

const enum FrameKind {
  /** Undefined-length sequence: expects Items or a Sequence Delimitation Item. */
  Sequence,
  /** Item of a sequence: expects Data Elements (and, if undefined length, an Item Delimitation Item). */
  Item,
  /** Encapsulated Pixel Data: expects defined-length Items (fragments) or a Sequence Delimitation Item. */
  Fragments,
}

interface Frame {
  kind: FrameKind;
  /** Absolute end offset for a defined-length item; -1 when delimited. */
  end: number;
  explicitVr: boolean;
  littleEndian: boolean;
}

export interface WalkerEncoding {
  explicitVr: boolean;
  littleEndian: boolean;
}

export class DatasetWalker {
  /** Absolute offset of the next byte to be consumed. */
  private pos = 0;
  /** Value bytes still to skip. */
  private skip = 0;
  /** Bytes of the element or item header being assembled across chunks. */
  private readonly head = Buffer.alloc(12);
  private headLength = 0;
  private headStart = 0;
  private readonly stack: Frame[] = [];
  private readonly top: WalkerEncoding;
  /** Offset of the first top-level (7FE0,xxxx) element, or -1 while not seen. */
  headerEnd = -1;

  constructor(encoding: WalkerEncoding) {
    this.top = { explicitVr: encoding.explicitVr, littleEndian: encoding.littleEndian };
  }

  /** Bytes walked so far. */
  get position(): number {
    return this.pos;
  }

  /** True when the bytes seen so far end on a top-level element boundary. */
  get atTopLevelBoundary(): boolean {
    this.closeDefinedItems();
    return this.skip === 0 && this.headLength === 0 && this.stack.length === 0;
  }

  /** Walks one chunk. Throws DatasetStructureError for invalid structure. */
  write(chunk: Uint8Array): void {
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, length - i);
        this.skip -= n;
        this.pos += n;
        i += n;
        continue;
      }
      if (this.headLength === 0) {
        this.closeDefinedItems();
        this.headStart = this.pos;
      }
      const need = this.headNeeded();
      const n = Math.min(need - this.headLength, length - i);
      // At most 12 bytes: a loop, not a subarray view per element header.
      for (let k = 0; k < n; k++) this.head[this.headLength + k] = chunk[i + k]!;
      this.headLength += n;
      this.pos += n;
      i += n;
      // The first 8 bytes tell whether an explicit VR header has 12.
      if (this.headLength === need && this.headNeeded() === need) this.onHeader();
    }
  }

  /** Bytes of header needed for what is known so far (8, or 12 for explicit long forms). */
  private headNeeded(): number {
    if (this.headLength < 6) return 8;
    const frame = this.stack.at(-1);
    if (frame && frame.kind !== FrameKind.Item) return 8;
    const explicitVr = frame ? frame.explicitVr : this.top.explicitVr;
    if (!explicitVr) return 8;
    const group = this.readUint16(0, frame);
    if (group === ITEM_GROUP) return 8;
    return LONG_FORM_VRS.has(this.vr()) ? 12 : 8;
  }

  private onHeader(): void {
    const frame = this.stack.at(-1);
    const group = this.readUint16(0, frame);
    const element = this.readUint16(2, frame);
    const headStart = this.headStart;
    this.headLength = 0;

    if (frame && frame.kind !== FrameKind.Item) {
      this.onSequenceContent(frame, group, element);
      return;
    }
    if (group === ITEM_GROUP) {
      if (element === ITEM_DELIMITATION && frame && frame.end === -1) {
        this.stack.pop();
        return;
      }
      throw new DatasetStructureError(`unexpected (FFFE,${hex(element)}) at offset ${headStart}`);
    }
    if (!frame && group === PIXEL_DATA_GROUP && this.headerEnd < 0) this.headerEnd = headStart;

    const explicitVr = frame ? frame.explicitVr : this.top.explicitVr;
    const littleEndian = frame ? frame.littleEndian : this.top.littleEndian;
    let length: number;
    let vr = '';
    if (explicitVr) {
      vr = this.vr();
      if (LONG_FORM_VRS.has(vr)) length = this.readUint32(8, frame);
      else if (SHORT_FORM_VRS.has(vr)) length = this.readUint16(6, frame);
      else throw new DatasetStructureError(`invalid VR at offset ${headStart}`);
    } else {
      length = this.readUint32(4, frame);
    }
    if (length !== UNDEFINED_LENGTH) {
      this.skip = length;
      return;
    }
    // Undefined length (PS3.5 7.1.2, 7.5.2, A.4).
    if (explicitVr ? vr === 'SQ' : !(group === PIXEL_DATA_GROUP && element === 0x0010)) {
      this.stack.push({ kind: FrameKind.Sequence, end: -1, explicitVr, littleEndian });
    } else if (explicitVr && vr === 'UN') {
      // PS3.5 6.2.2: UN of undefined length holds an Implicit VR Little Endian sequence.
      this.stack.push({ kind: FrameKind.Sequence, end: -1, explicitVr: false, littleEndian: true });
    } else if (!explicitVr || vr === 'OB' || vr === 'OW') {
      this.stack.push({ kind: FrameKind.Fragments, end: -1, explicitVr, littleEndian });
    } else {
      throw new DatasetStructureError(`undefined length with VR ${vr} at offset ${headStart}`);
    }
  }

  /** Inside an undefined-length sequence or encapsulated pixel data. */
  private onSequenceContent(frame: Frame, group: number, element: number): void {
    if (group === ITEM_GROUP && element === ITEM) {
      const length = this.readUint32(4, frame);
      if (frame.kind === FrameKind.Fragments) {
        if (length === UNDEFINED_LENGTH) throw new DatasetStructureError('undefined-length fragment');
        this.skip = length;
        return;
      }
      this.stack.push({
        kind: FrameKind.Item,
        end: length === UNDEFINED_LENGTH ? -1 : this.pos + length,
        explicitVr: frame.explicitVr,
        littleEndian: frame.littleEndian,
      });
      return;
    }
    if (group === ITEM_GROUP && element === SEQUENCE_DELIMITATION) {
      this.stack.pop();
      return;
    }
    throw new DatasetStructureError(`expected an item at offset ${this.headStart}`);
  }

  /** Pops defined-length items whose end has been reached. */
  private closeDefinedItems(): void {
    let frame = this.stack.at(-1);
    while (frame && frame.end !== -1 && this.skip === 0 && this.headLength === 0 && this.pos >= frame.end) {
      if (this.pos > frame.end) throw new DatasetStructureError(`element overruns its item at offset ${this.pos}`);
      this.stack.pop();
      frame = this.stack.at(-1);
    }
  }

  private vr(): string {
    return String.fromCharCode(this.head[4]!, this.head[5]!);
  }

  private readUint16(offset: number, frame: Frame | undefined): number {
    const little = frame ? frame.littleEndian : this.top.littleEndian;
    return little ? this.head.readUInt16LE(offset) : this.head.readUInt16BE(offset);
  }

  private readUint32(offset: number, frame: Frame | undefined): number {
    const little = frame ? frame.littleEndian : this.top.littleEndian;
    return little ? this.head.readUInt32LE(offset) : this.head.readUInt32BE(offset);
  }
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}
