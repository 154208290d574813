/**
 * DIMSE command sets (PS3.7 Section 9.3 and Annex E): group 0000 elements,
 * always Implicit VR Little Endian. Decoding keeps the elements the SCP needs;
 * encoding writes Command Group Length (0000,0000) first.
 */

export const CommandField = {
  C_STORE_RQ: 0x0001,
  C_STORE_RSP: 0x8001,
  C_GET_RQ: 0x0010,
  C_FIND_RQ: 0x0020,
  C_MOVE_RQ: 0x0021,
  C_ECHO_RQ: 0x0030,
  C_ECHO_RSP: 0x8030,
  N_EVENT_REPORT_RQ: 0x0100,
  N_GET_RQ: 0x0110,
  N_SET_RQ: 0x0120,
  N_ACTION_RQ: 0x0130,
  N_CREATE_RQ: 0x0140,
  N_DELETE_RQ: 0x0150,
  C_CANCEL_RQ: 0x0fff,
} as const;

/** Request command fields that have a response form (response = request | 0x8000). */
export const REQUESTS_WITH_RESPONSE: ReadonlySet<number> = new Set([
  CommandField.C_STORE_RQ, CommandField.C_GET_RQ, CommandField.C_FIND_RQ, CommandField.C_MOVE_RQ,
  CommandField.C_ECHO_RQ, CommandField.N_EVENT_REPORT_RQ, CommandField.N_GET_RQ, CommandField.N_SET_RQ,
  CommandField.N_ACTION_RQ, CommandField.N_CREATE_RQ, CommandField.N_DELETE_RQ,
]);

/** Command Data Set Type (0000,0800) value meaning "no data set". */
export const NO_DATA_SET = 0x0101;

export const Status = {
  Success: 0x0000,
  UnrecognizedOperation: 0x0211,
  SopClassNotSupported: 0x0122,
  OutOfResources: 0xa700,
  CannotUnderstand: 0xc000,
} as const;

/** Group 0000 tags used here (PS3.7 Annex E), as (group << 16 | element). */
export const Tag = {
  CommandGroupLength: 0x00000000,
  AffectedSopClassUid: 0x00000002,
  RequestedSopClassUid: 0x00000003,
  CommandField: 0x00000100,
  MessageId: 0x00000110,
  MessageIdBeingRespondedTo: 0x00000120,
  MoveDestination: 0x00000600,
  Priority: 0x00000700,
  CommandDataSetType: 0x00000800,
  Status: 0x00000900,
  ErrorComment: 0x00000902,
  AffectedSopInstanceUid: 0x00001000,
  RequestedSopInstanceUid: 0x00001001,
  MoveOriginatorAeTitle: 0x00001030,
  MoveOriginatorMessageId: 0x00001031,
} as const;

type Vr = 'UI' | 'US' | 'UL' | 'AE' | 'LO';
const VR_OF: ReadonlyMap<number, Vr> = new Map<number, Vr>([
  [Tag.CommandGroupLength, 'UL'],
  [Tag.AffectedSopClassUid, 'UI'],
  [Tag.RequestedSopClassUid, 'UI'],
  [Tag.CommandField, 'US'],
  [Tag.MessageId, 'US'],
  [Tag.MessageIdBeingRespondedTo, 'US'],
  [Tag.MoveDestination, 'AE'],
  [Tag.Priority, 'US'],
  [Tag.CommandDataSetType, 'US'],
  [Tag.Status, 'US'],
  [Tag.ErrorComment, 'LO'],
  [Tag.AffectedSopInstanceUid, 'UI'],
  [Tag.RequestedSopInstanceUid, 'UI'],
  [Tag.MoveOriginatorAeTitle, 'AE'],
  [Tag.MoveOriginatorMessageId, 'US'],
]);

export interface DimseCommand {
  commandField: number;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  affectedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  priority?: number;
  commandDataSetType: number;
  status?: number;
  errorComment?: string;
  moveOriginatorAeTitle?: string;
  moveOriginatorMessageId?: number;
}

export class DimseDecodeError extends Error {
  override name = 'DimseDecodeError';
}

export function hasDataSet(cmd: DimseCommand): boolean {
  return cmd.commandDataSetType !== NO_DATA_SET;
}

/** Decodes a command set (Implicit VR Little Endian). Unknown group 0000 elements are skipped. */
export function decodeCommand(buf: Buffer): DimseCommand {
  let off = 0;
  const out: Partial<DimseCommand> = {};
  while (off < buf.length) {
    if (buf.length - off < 8) throw new DimseDecodeError('truncated command element header');
    const tag = ((buf.readUInt16LE(off) << 16) | buf.readUInt16LE(off + 2)) >>> 0;
    const len = buf.readUInt32LE(off + 4);
    off += 8;
    if (len > buf.length - off) throw new DimseDecodeError(`command element ${tag.toString(16).padStart(8, '0')} overruns the command set`);
    if (tag >>> 16 !== 0) throw new DimseDecodeError(`element ${tag.toString(16).padStart(8, '0')} outside group 0000 in a command set`);
    const value = buf.subarray(off, off + len);
    off += len;
    const vr = VR_OF.get(tag);
    const num = (): number => {
      if (vr === 'US' && len >= 2) return value.readUInt16LE(0);
      if (vr === 'UL' && len >= 4) return value.readUInt32LE(0);
      throw new DimseDecodeError(`command element ${tag.toString(16)} has length ${len}`);
    };
    const str = (): string => value.toString('latin1').replace(/[\0 ]+$/, '').trim();
    switch (tag) {
      case Tag.CommandField: out.commandField = num(); break;
      case Tag.MessageId: out.messageId = num(); break;
      case Tag.MessageIdBeingRespondedTo: out.messageIdBeingRespondedTo = num(); break;
      case Tag.AffectedSopClassUid: out.affectedSopClassUid = str(); break;
      case Tag.AffectedSopInstanceUid: out.affectedSopInstanceUid = str(); break;
      case Tag.Priority: out.priority = num(); break;
      case Tag.CommandDataSetType: out.commandDataSetType = num(); break;
      case Tag.Status: out.status = num(); break;
      case Tag.ErrorComment: out.errorComment = str(); break;
      case Tag.MoveOriginatorAeTitle: out.moveOriginatorAeTitle = str(); break;
      case Tag.MoveOriginatorMessageId: out.moveOriginatorMessageId = num(); break;
      default: break;
    }
  }
  if (out.commandField === undefined) throw new DimseDecodeError('command set without Command Field (0000,0100)');
  if (out.commandDataSetType === undefined) throw new DimseDecodeError('command set without Command Data Set Type (0000,0800)');
  return out as DimseCommand;
}

/** An Error Comment (0000,0902) value: LO, at most 64 characters, no backslash or control characters. */
export function errorCommentValue(message: string): string {
  return message.replace(/[\\\x00-\x1f\x7f-\uffff]/g, ' ').slice(0, 64).trim();
}

/** One element to encode: tag and either a US value or latin1 text with its padding byte. */
type EncodedElement = readonly [tag: number, us: number | undefined, text: string | undefined, pad: number];

/** Implicit VR LE element header (tag, 32-bit length) at `off`; returns the offset after it. */
function writeElementHeader(out: Buffer, off: number, tag: number, length: number): number {
  out.writeUInt16LE(tag >>> 16, off);
  out.writeUInt16LE(tag & 0xffff, off + 2);
  out.writeUInt32LE(length, off + 4);
  return off + 8;
}

/**
 * Encodes a command set into one Buffer (one allocation, no per-element
 * buffers): Command Group Length first, then the elements in ascending tag
 * order (PS3.5 7.1). UI values are padded with NUL to even length, AE/LO
 * values with a space.
 */
export function encodeCommand(cmd: DimseCommand): Buffer {
  const elements: EncodedElement[] = [];
  if (cmd.affectedSopClassUid !== undefined) elements.push([Tag.AffectedSopClassUid, undefined, cmd.affectedSopClassUid, 0x00]);
  elements.push([Tag.CommandField, cmd.commandField, undefined, 0]);
  if (cmd.messageId !== undefined) elements.push([Tag.MessageId, cmd.messageId, undefined, 0]);
  if (cmd.messageIdBeingRespondedTo !== undefined) elements.push([Tag.MessageIdBeingRespondedTo, cmd.messageIdBeingRespondedTo, undefined, 0]);
  if (cmd.priority !== undefined) elements.push([Tag.Priority, cmd.priority, undefined, 0]);
  elements.push([Tag.CommandDataSetType, cmd.commandDataSetType, undefined, 0]);
  if (cmd.status !== undefined) elements.push([Tag.Status, cmd.status, undefined, 0]);
  if (cmd.errorComment !== undefined && cmd.errorComment !== '')
    elements.push([Tag.ErrorComment, undefined, errorCommentValue(cmd.errorComment), 0x20]);
  if (cmd.affectedSopInstanceUid !== undefined) elements.push([Tag.AffectedSopInstanceUid, undefined, cmd.affectedSopInstanceUid, 0x00]);
  if (cmd.moveOriginatorAeTitle !== undefined) elements.push([Tag.MoveOriginatorAeTitle, undefined, cmd.moveOriginatorAeTitle, 0x20]);
  if (cmd.moveOriginatorMessageId !== undefined) elements.push([Tag.MoveOriginatorMessageId, cmd.moveOriginatorMessageId, undefined, 0]);

  let bodyLength = 0;
  for (const [, , text] of elements) bodyLength += 8 + (text === undefined ? 2 : evenLength(Buffer.byteLength(text, 'latin1')));
  const out = Buffer.allocUnsafe(12 + bodyLength);
  let off = writeElementHeader(out, 0, Tag.CommandGroupLength, 4);
  out.writeUInt32LE(bodyLength, off);
  off += 4;
  for (const [tag, us, text, pad] of elements) {
    if (text === undefined) {
      off = writeElementHeader(out, off, tag, 2);
      out.writeUInt16LE(us!, off);
      off += 2;
      continue;
    }
    const n = Buffer.byteLength(text, 'latin1');
    off = writeElementHeader(out, off, tag, evenLength(n));
    off += out.write(text, off, n, 'latin1');
    if (n % 2 !== 0) out[off++] = pad;
  }
  return out;
}

function evenLength(n: number): number {
  return n + (n % 2);
}
