/**
 * Protocol Data Units of the DICOM Upper Layer (PS3.8 Section 9.3). Each PDU
 * type has an encode/decode pair: `encodePdu` writes the full PDU (6-byte
 * header included), `decodePdu` reads a PDU body (the bytes after the
 * header). P-DATA-TF is received by the streaming reader (./pdu-stream.ts);
 * its decoder here serves tests and small messages.
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

/** Encodes one PDV item (PS3.8 Table 9-23 and Annex E.2 message control header). */
export function encodePdvHeader(pdv: Omit<Pdv, 'data'>, dataLength: number): Buffer {
  const b = Buffer.allocUnsafe(PDV_HEADER_LENGTH);
  writePdvHeader(b, 0, pdv, dataLength);
  return b;
}

/** Writes one PDV item header into `out` at `off` (as encodePdvHeader, without allocating). */
export function writePdvHeader(out: Buffer, off: number, pdv: Omit<Pdv, 'data'>, dataLength: number): void {
  out.writeUInt32BE(dataLength + 2, off);
  out[off + 4] = pdv.presentationContextId;
  out[off + 5] = (pdv.isCommand ? 0x01 : 0) | (pdv.isLast ? 0x02 : 0);
}

export function encodePdu(pdu: Pdu): Buffer {
  let type: number;
  let body: Buffer;
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ': type = PduType.AAssociateRq; body = encodeAssociate(pdu); break;
    case 'A-ASSOCIATE-AC': type = PduType.AAssociateAc; body = encodeAssociate(pdu); break;
    case 'A-ASSOCIATE-RJ': type = PduType.AAssociateRj; body = fourBytes(0, pdu.result, pdu.source, pdu.reason); break;
    case 'P-DATA-TF':
      type = PduType.PDataTf;
      body = Buffer.concat(pdu.pdvs.flatMap((p) => [encodePdvHeader(p, p.data.length), p.data]));
      break;
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
    pdvs.push({ presentationContextId, isCommand: (mch & 1) !== 0, isLast: (mch & 2) !== 0, data: r.bytes(len - 2, 'PDV data') });
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
