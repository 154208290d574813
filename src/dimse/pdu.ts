/**
 * Protocol Data Units of the DICOM Upper Layer (PS3.8 Section 9.3). Each PDU
 * type has an encode/decode pair: `encodePdu` writes the full PDU (6-byte
 * header included), `decodePdu` reads a PDU body (the bytes after the
 * header). The P-DATA-TF framing is here too: PDV items and their message
 * control header (Section 9.3.5, Annex E.2), and the split of one DIMSE
 * message part into PDVs that fit the peer's maximum PDU length. Received
 * P-DATA-TF PDUs are read by the streaming reader (./pdu-stream.ts), which
 * hands PDV data on without copying; `decodePdvs` serves tests and small messages.
 */
import { ByteReader, PduDecodeError, AbortReason, decodeAeTitle, encodeAeTitle } from './bytes.js';
import {
  ItemType,
  decodeItems,
  encodeItem,
  presentationContextAcItem,
  presentationContextRqItem,
  uidItem,
  userInformationItem,
  emptyUserInformation,
  type PresentationContextAc,
  type PresentationContextRq,
  type UserInformation,
} from './pdu-items.js';

export const PduType = {
  AAssociateRq: 0x01,
  AAssociateAc: 0x02,
  AAssociateRj: 0x03,
  PDataTf: 0x04,
  AReleaseRq: 0x05,
  AReleaseRp: 0x06,
  AAbort: 0x07,
} as const;

export const PDU_HEADER_LENGTH = 6;
/** PDV item header inside a P-DATA-TF: 4-byte length, context id, message control header. */
export const PDV_HEADER_LENGTH = 6;

/** Bits of a PDV's message control header (PS3.8 Annex E.2). */
export const MessageControlHeader = {
  /** Set: a command fragment; clear: a data set fragment. */
  Command: 0x01,
  /** Set: the last fragment of the command set or data set. */
  LastFragment: 0x02,
} as const;

/** PDV data per PDU when the peer announced no maximum length (0 = unlimited, PS3.8 Annex D.1). */
const UNLIMITED_PDV_DATA = 1 << 20;

export interface AAssociateRq {
  type: 'A-ASSOCIATE-RQ';
  protocolVersion: number;
  calledAeTitle: string;
  callingAeTitle: string;
  applicationContextName: string;
  presentationContexts: PresentationContextRq[];
  userInformation: UserInformation;
}
export interface AAssociateAc {
  type: 'A-ASSOCIATE-AC';
  protocolVersion: number;
  calledAeTitle: string;
  callingAeTitle: string;
  applicationContextName: string;
  presentationContexts: PresentationContextAc[];
  userInformation: UserInformation;
}
/** PS3.8 Table 9-21. */
export interface AAssociateRj {
  type: 'A-ASSOCIATE-RJ';
  result: number;
  source: number;
  reason: number;
}
export interface Pdv {
  presentationContextId: number;
  isCommand: boolean;
  isLast: boolean;
  data: Buffer;
}
export interface PDataTf {
  type: 'P-DATA-TF';
  pdvs: Pdv[];
}
export interface AReleaseRq {
  type: 'A-RELEASE-RQ';
}
export interface AReleaseRp {
  type: 'A-RELEASE-RP';
}
/** PS3.8 Table 9-26. */
export interface AAbort {
  type: 'A-ABORT';
  source: number;
  reason: number;
}
export type Pdu = AAssociateRq | AAssociateAc | AAssociateRj | PDataTf | AReleaseRq | AReleaseRp | AAbort;

/** A-ASSOCIATE-RJ result, source and reason values (PS3.8 Table 9-21). */
export const RejectResult = { Permanent: 1, Transient: 2 } as const;
export const RejectSource = { ServiceUser: 1, ServiceProviderAcse: 2, ServiceProviderPresentation: 3 } as const;
export const RejectReason = {
  user: { NoReasonGiven: 1, ApplicationContextNameNotSupported: 2, CallingAeTitleNotRecognized: 3, CalledAeTitleNotRecognized: 7 },
  acse: { NoReasonGiven: 1, ProtocolVersionNotSupported: 2 },
  presentation: { TemporaryCongestion: 1, LocalLimitExceeded: 2 },
} as const;

function header(type: number, bodyLength: number): Buffer {
  const b = Buffer.allocUnsafe(PDU_HEADER_LENGTH);
  b[0] = type;
  b[1] = 0;
  b.writeUInt32BE(bodyLength, 2);
  return b;
}

function encodeAssociate(pdu: AAssociateRq | AAssociateAc): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(pdu.protocolVersion, 0);
  encodeAeTitle(pdu.calledAeTitle).copy(fixed, 4);
  encodeAeTitle(pdu.callingAeTitle).copy(fixed, 20);
  const contexts =
    pdu.type === 'A-ASSOCIATE-RQ'
      ? pdu.presentationContexts.map((pc) => encodeItem(ItemType.PresentationContextRq, presentationContextRqItem.encode(pc)))
      : pdu.presentationContexts.map((pc) => encodeItem(ItemType.PresentationContextAc, presentationContextAcItem.encode(pc)));
  return Buffer.concat([
    fixed,
    encodeItem(ItemType.ApplicationContext, uidItem.encode(pdu.applicationContextName)),
    ...contexts,
    encodeItem(ItemType.UserInformation, userInformationItem.encode(pdu.userInformation)),
  ]);
}

function fourBytes(a: number, b: number, c: number, d: number): Buffer {
  return Buffer.from([a, b, c, d]);
}

/** The message control header byte of a PDV (PS3.8 Annex E.2). */
export function messageControlHeader(pdv: Pick<Pdv, 'isCommand' | 'isLast'>): number {
  return (pdv.isCommand ? MessageControlHeader.Command : 0) | (pdv.isLast ? MessageControlHeader.LastFragment : 0);
}

/** Writes one PDV item header (PS3.8 Table 9-23: item length, context id, message control header) at `off`. */
function writePdvHeader(out: Buffer, off: number, pdv: Pdv): void {
  out.writeUInt32BE(pdv.data.length + 2, off);
  out[off + 4] = pdv.presentationContextId;
  out[off + 5] = messageControlHeader(pdv);
}

/**
 * A whole P-DATA-TF PDU (PS3.8 Table 9-22) in a single buffer: PDU header,
 * then each PDV item header followed by its data. One allocation and one
 * copy of the data, so the PDU goes out in one write.
 */
export function encodePDataTf(pdu: PDataTf): Buffer {
  let bodyLength = 0;
  for (const pdv of pdu.pdvs) bodyLength += PDV_HEADER_LENGTH + pdv.data.length;
  const out = Buffer.allocUnsafe(PDU_HEADER_LENGTH + bodyLength);
  out[0] = PduType.PDataTf;
  out[1] = 0;
  out.writeUInt32BE(bodyLength, 2);
  let off = PDU_HEADER_LENGTH;
  for (const pdv of pdu.pdvs) {
    writePdvHeader(out, off, pdv);
    pdv.data.copy(out, off + PDV_HEADER_LENGTH);
    off += PDV_HEADER_LENGTH + pdv.data.length;
  }
  return out;
}

/**
 * One DIMSE message part (a command set or a data set) as the PDVs of
 * P-DATA-TF PDUs of at most `maxPduLength` (the peer's Maximum Length,
 * 0 = unlimited), one PDV per PDU; the last one has the last-fragment bit.
 * The PDV data are views of `bytes`, not copies.
 */
export function messagePdvs(presentationContextId: number, isCommand: boolean, bytes: Buffer, maxPduLength: number): Pdv[] {
  const maxData = maxPduLength > 0 ? Math.max(maxPduLength - PDV_HEADER_LENGTH, 1) : UNLIMITED_PDV_DATA;
  const pdvs: Pdv[] = [];
  let off = 0;
  do {
    const n = Math.min(maxData, bytes.length - off);
    pdvs.push({ presentationContextId, isCommand, isLast: off + n >= bytes.length, data: bytes.subarray(off, off + n) });
    off += n;
  } while (off < bytes.length);
  return pdvs;
}

export function encodePdu(pdu: Pdu): Buffer {
  let type: number;
  let body: Buffer;
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ': type = PduType.AAssociateRq; body = encodeAssociate(pdu); break;
    case 'A-ASSOCIATE-AC': type = PduType.AAssociateAc; body = encodeAssociate(pdu); break;
    case 'A-ASSOCIATE-RJ': type = PduType.AAssociateRj; body = fourBytes(0, pdu.result, pdu.source, pdu.reason); break;
    case 'P-DATA-TF': return encodePDataTf(pdu);
    case 'A-RELEASE-RQ': type = PduType.AReleaseRq; body = Buffer.alloc(4); break;
    case 'A-RELEASE-RP': type = PduType.AReleaseRp; body = Buffer.alloc(4); break;
    case 'A-ABORT': type = PduType.AAbort; body = fourBytes(0, 0, pdu.source, pdu.reason); break;
  }
  return Buffer.concat([header(type, body.length), body]);
}

function decodeAssociate(kind: 'A-ASSOCIATE-RQ' | 'A-ASSOCIATE-AC', body: Buffer): AAssociateRq | AAssociateAc {
  const r = new ByteReader(body);
  const protocolVersion = r.u16('protocol version');
  r.skip(2, 'reserved');
  const calledAeTitle = decodeAeTitle(r.bytes(16, 'called AE title'));
  const callingAeTitle = decodeAeTitle(r.bytes(16, 'calling AE title'));
  r.skip(32, 'reserved');
  let applicationContextName: string | undefined;
  const rqContexts: PresentationContextRq[] = [];
  const acContexts: PresentationContextAc[] = [];
  let userInformation: UserInformation | undefined;
  for (const item of decodeItems(r.bytes(r.remaining, kind), kind)) {
    if (item.type === ItemType.ApplicationContext) applicationContextName = uidItem.decode(item.value);
    else if (item.type === ItemType.PresentationContextRq && kind === 'A-ASSOCIATE-RQ')
      rqContexts.push(presentationContextRqItem.decode(item.value));
    else if (item.type === ItemType.PresentationContextAc && kind === 'A-ASSOCIATE-AC')
      acContexts.push(presentationContextAcItem.decode(item.value));
    else if (item.type === ItemType.UserInformation) userInformation = userInformationItem.decode(item.value);
    else throw new PduDecodeError(`${kind}: unexpected item 0x${item.type.toString(16)}`, AbortReason.UnrecognizedPduParameter);
  }
  if (applicationContextName === undefined) throw new PduDecodeError(`${kind}: no application context item`);
  const common = { protocolVersion, calledAeTitle, callingAeTitle, applicationContextName, userInformation: userInformation ?? emptyUserInformation() };
  return kind === 'A-ASSOCIATE-RQ'
    ? { type: kind, ...common, presentationContexts: rqContexts }
    : { type: kind, ...common, presentationContexts: acContexts };
}

/** Decodes the PDV items of a P-DATA-TF body (PS3.8 Table 9-22). */
export function decodePdvs(body: Buffer): Pdv[] {
  const r = new ByteReader(body);
  const pdvs: Pdv[] = [];
  while (r.remaining > 0) {
    const len = r.u32('PDV item length');
    if (len < 2) throw new PduDecodeError(`PDV item length ${len} < 2`);
    const presentationContextId = r.u8('presentation context id');
    const mch = r.u8('message control header');
    pdvs.push({
      presentationContextId,
      isCommand: (mch & MessageControlHeader.Command) !== 0,
      isLast: (mch & MessageControlHeader.LastFragment) !== 0,
      data: r.bytes(len - 2, 'PDV data'),
    });
  }
  return pdvs;
}

/** Decodes a PDU body (after the 6-byte header) of the given PDU type. */
export function decodePdu(type: number, body: Buffer): Pdu {
  switch (type) {
    case PduType.AAssociateRq: return decodeAssociate('A-ASSOCIATE-RQ', body);
    case PduType.AAssociateAc: return decodeAssociate('A-ASSOCIATE-AC', body);
    case PduType.AAssociateRj: {
      const r = new ByteReader(body);
      r.skip(1, 'reserved');
      return { type: 'A-ASSOCIATE-RJ', result: r.u8('result'), source: r.u8('source'), reason: r.u8('reason') };
    }
    case PduType.PDataTf: return { type: 'P-DATA-TF', pdvs: decodePdvs(body) };
    case PduType.AReleaseRq: new ByteReader(body).need(4, 'A-RELEASE-RQ'); return { type: 'A-RELEASE-RQ' };
    case PduType.AReleaseRp: new ByteReader(body).need(4, 'A-RELEASE-RP'); return { type: 'A-RELEASE-RP' };
    case PduType.AAbort: {
      const r = new ByteReader(body);
      r.skip(2, 'reserved');
      return { type: 'A-ABORT', source: r.u8('source'), reason: r.u8('reason') };
    }
    default:
      throw new PduDecodeError(`unknown PDU type 0x${type.toString(16)}`, AbortReason.UnrecognizedPdu);
  }
}
