/**
 * Items and sub-items of the association PDUs (PS3.8 Section 9.3.2 / 9.3.3,
 * and PS3.7 Annex D for the user information sub-items). Each item type has
 * an encode/decode pair over its value (the bytes after the 4-byte item
 * header); `encodeItem` / `decodeItems` add and strip that header.
 */
import { ByteReader, PduDecodeError, decodeAscii, u16be, AbortReason } from './bytes.js';

export const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaximumLength: 0x51,
  ImplementationClassUid: 0x52,
  AsynchronousOperationsWindow: 0x53,
  ScpScuRoleSelection: 0x54,
  ImplementationVersionName: 0x55,
  SopClassExtendedNegotiation: 0x56,
  SopClassCommonExtendedNegotiation: 0x57,
  UserIdentityRq: 0x58,
  UserIdentityAc: 0x59,
} as const;

/** Presentation context result/reason in the A-ASSOCIATE-AC (PS3.8 Table 9-18). */
export const PresentationContextResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;

export interface RawItem {
  type: number;
  value: Buffer;
}

/** Item header: type, reserved, 2-byte length (PS3.8 Table 9-12 and following). */
export function encodeItem(type: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new RangeError(`item 0x${type.toString(16)} too long: ${value.length}`);
  const header = Buffer.allocUnsafe(4);
  header[0] = type;
  header[1] = 0;
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value]);
}

export function decodeItems(buf: Buffer, what: string): RawItem[] {
  const r = new ByteReader(buf);
  const items: RawItem[] = [];
  while (r.remaining > 0) {
    const type = r.u8(`${what} item type`);
    r.skip(1, `${what} item reserved`);
    const len = r.u16(`${what} item length`);
    items.push({ type, value: r.bytes(len, `${what} item 0x${type.toString(16)}`) });
  }
  return items;
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

// ---- UID-valued items: Application Context (0x10), Abstract Syntax (0x30),
// Transfer Syntax (0x40), Implementation Class UID (0x52), Implementation
// Version Name (0x55). The value is the name itself.
export const uidItem = {
  encode: (uid: string): Buffer => ascii(uid),
  decode: (value: Buffer): string => decodeAscii(value),
};

// ---- Presentation Context Item, A-ASSOCIATE-RQ (0x20), PS3.8 Table 9-13.
export interface PresentationContextRq {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}
export const presentationContextRqItem = {
  encode(pc: PresentationContextRq): Buffer {
    return Buffer.concat([
      Buffer.from([pc.id, 0, 0, 0]),
      encodeItem(ItemType.AbstractSyntax, uidItem.encode(pc.abstractSyntax)),
      ...pc.transferSyntaxes.map((ts) => encodeItem(ItemType.TransferSyntax, uidItem.encode(ts))),
    ]);
  },
  decode(value: Buffer): PresentationContextRq {
    const r = new ByteReader(value);
    const id = r.u8('presentation context id');
    r.skip(3, 'presentation context reserved');
    let abstractSyntax: string | undefined;
    const transferSyntaxes: string[] = [];
    for (const sub of decodeItems(r.bytes(r.remaining, 'presentation context'), 'presentation context')) {
      if (sub.type === ItemType.AbstractSyntax) {
        if (abstractSyntax !== undefined) throw new PduDecodeError(`presentation context ${id}: two abstract syntaxes`);
        abstractSyntax = uidItem.decode(sub.value);
      } else if (sub.type === ItemType.TransferSyntax) transferSyntaxes.push(uidItem.decode(sub.value));
      else throw new PduDecodeError(`presentation context ${id}: unknown sub-item 0x${sub.type.toString(16)}`, AbortReason.UnrecognizedPduParameter);
    }
    if (abstractSyntax === undefined) throw new PduDecodeError(`presentation context ${id}: no abstract syntax`);
    if (transferSyntaxes.length === 0) throw new PduDecodeError(`presentation context ${id}: no transfer syntax`);
    return { id, abstractSyntax, transferSyntaxes };
  },
};

// ---- Presentation Context Item, A-ASSOCIATE-AC (0x21), PS3.8 Table 9-18.
export interface PresentationContextAc {
  id: number;
  result: number;
  transferSyntax: string;
}
export const presentationContextAcItem = {
  encode(pc: PresentationContextAc): Buffer {
    return Buffer.concat([
      Buffer.from([pc.id, 0, pc.result, 0]),
      encodeItem(ItemType.TransferSyntax, uidItem.encode(pc.transferSyntax)),
    ]);
  },
  decode(value: Buffer): PresentationContextAc {
    const r = new ByteReader(value);
    const id = r.u8('presentation context id');
    r.skip(1, 'reserved');
    const result = r.u8('presentation context result');
    r.skip(1, 'reserved');
    const subs = decodeItems(r.bytes(r.remaining, 'presentation context'), 'presentation context');
    const ts = subs.find((s) => s.type === ItemType.TransferSyntax);
    return { id, result, transferSyntax: ts ? uidItem.decode(ts.value) : '' };
  },
};

// ---- Maximum Length Sub-Item (0x51), PS3.8 Annex D.1.
export const maximumLengthItem = {
  encode(maxLength: number): Buffer {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(maxLength, 0);
    return b;
  },
  decode(value: Buffer): number {
    return new ByteReader(value).u32('maximum length');
  },
};

// ---- Asynchronous Operations Window Sub-Item (0x53), PS3.7 Table D.3-7.
export interface AsyncOpsWindow {
  maxOperationsInvoked: number;
  maxOperationsPerformed: number;
}
export const asyncOpsWindowItem = {
  encode: (w: AsyncOpsWindow): Buffer => Buffer.concat([u16be(w.maxOperationsInvoked), u16be(w.maxOperationsPerformed)]),
  decode(value: Buffer): AsyncOpsWindow {
    const r = new ByteReader(value);
    return { maxOperationsInvoked: r.u16('max operations invoked'), maxOperationsPerformed: r.u16('max operations performed') };
  },
};

// ---- SCP/SCU Role Selection Sub-Item (0x54), PS3.7 Table D.3-9.
export interface RoleSelection {
  sopClassUid: string;
  scuRole: number;
  scpRole: number;
}
export const roleSelectionItem = {
  encode: (s: RoleSelection): Buffer => {
    const uid = ascii(s.sopClassUid);
    return Buffer.concat([u16be(uid.length), uid, Buffer.from([s.scuRole, s.scpRole])]);
  },
  decode(value: Buffer): RoleSelection {
    const r = new ByteReader(value);
    const sopClassUid = decodeAscii(r.bytes(r.u16('uid length'), 'role selection SOP class'));
    return { sopClassUid, scuRole: r.u8('SCU role'), scpRole: r.u8('SCP role') };
  },
};

// ---- SOP Class Extended Negotiation Sub-Item (0x56), PS3.7 Table D.3-11.
export interface SopClassExtendedNegotiation {
  sopClassUid: string;
  serviceClassApplicationInformation: Buffer;
}
export const sopClassExtendedItem = {
  encode: (s: SopClassExtendedNegotiation): Buffer => {
    const uid = ascii(s.sopClassUid);
    return Buffer.concat([u16be(uid.length), uid, s.serviceClassApplicationInformation]);
  },
  decode(value: Buffer): SopClassExtendedNegotiation {
    const r = new ByteReader(value);
    const sopClassUid = decodeAscii(r.bytes(r.u16('uid length'), 'extended negotiation SOP class'));
    return { sopClassUid, serviceClassApplicationInformation: Buffer.from(r.bytes(r.remaining, 'info')) };
  },
};

// ---- SOP Class Common Extended Negotiation Sub-Item (0x57), PS3.7 Table D.3-12.
export interface SopClassCommonExtendedNegotiation {
  sopClassUid: string;
  serviceClassUid: string;
  relatedGeneralSopClassUids: string[];
}
export const sopClassCommonExtendedItem = {
  encode(s: SopClassCommonExtendedNegotiation): Buffer {
    const related = Buffer.concat(
      s.relatedGeneralSopClassUids.map((u) => Buffer.concat([u16be(u.length), ascii(u)])),
    );
    return Buffer.concat([
      u16be(s.sopClassUid.length), ascii(s.sopClassUid),
      u16be(s.serviceClassUid.length), ascii(s.serviceClassUid),
      u16be(related.length), related,
    ]);
  },
  decode(value: Buffer): SopClassCommonExtendedNegotiation {
    const r = new ByteReader(value);
    const sopClassUid = decodeAscii(r.bytes(r.u16('uid length'), 'SOP class'));
    const serviceClassUid = decodeAscii(r.bytes(r.u16('uid length'), 'service class'));
    const rr = new ByteReader(r.bytes(r.u16('related length'), 'related general SOP classes'));
    const relatedGeneralSopClassUids: string[] = [];
    while (rr.remaining > 0) relatedGeneralSopClassUids.push(decodeAscii(rr.bytes(rr.u16('uid length'), 'related UID')));
    return { sopClassUid, serviceClassUid, relatedGeneralSopClassUids };
  },
};

// ---- User Identity Negotiation Sub-Item, RQ (0x58), PS3.7 Table D.3-14.
export interface UserIdentityRq {
  userIdentityType: number;
  positiveResponseRequested: boolean;
  primaryField: Buffer;
  secondaryField: Buffer;
}
export const userIdentityRqItem = {
  encode: (u: UserIdentityRq): Buffer =>
    Buffer.concat([
      Buffer.from([u.userIdentityType, u.positiveResponseRequested ? 1 : 0]),
      u16be(u.primaryField.length), u.primaryField,
      u16be(u.secondaryField.length), u.secondaryField,
    ]),
  decode(value: Buffer): UserIdentityRq {
    const r = new ByteReader(value);
    const userIdentityType = r.u8('user identity type');
    const positiveResponseRequested = r.u8('positive response requested') === 1;
    const primaryField = Buffer.from(r.bytes(r.u16('primary length'), 'primary field'));
    const secondaryField = r.remaining >= 2 ? Buffer.from(r.bytes(r.u16('secondary length'), 'secondary field')) : Buffer.alloc(0);
    return { userIdentityType, positiveResponseRequested, primaryField, secondaryField };
  },
};

// ---- User Identity Negotiation Sub-Item, AC (0x59), PS3.7 Table D.3-15.
export const userIdentityAcItem = {
  encode: (serverResponse: Buffer): Buffer => Buffer.concat([u16be(serverResponse.length), serverResponse]),
  decode(value: Buffer): Buffer {
    const r = new ByteReader(value);
    return Buffer.from(r.bytes(r.u16('server response length'), 'server response'));
  },
};

// ---- User Information Item (0x50), PS3.8 Table 9-16 and Annex D.
export interface UserInformation {
  maximumLength?: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  asyncOpsWindow?: AsyncOpsWindow;
  roleSelections: RoleSelection[];
  sopClassExtended: SopClassExtendedNegotiation[];
  sopClassCommonExtended: SopClassCommonExtendedNegotiation[];
  userIdentityRq?: UserIdentityRq;
  userIdentityAc?: Buffer;
  /** Sub-items we do not know, kept as they came (PS3.7 D.3.3: ignore them). */
  unknown: RawItem[];
}

export function emptyUserInformation(): UserInformation {
  return { roleSelections: [], sopClassExtended: [], sopClassCommonExtended: [], unknown: [] };
}

export const userInformationItem = {
  encode(u: UserInformation): Buffer {
    const parts: Buffer[] = [];
    if (u.maximumLength !== undefined) parts.push(encodeItem(ItemType.MaximumLength, maximumLengthItem.encode(u.maximumLength)));
    if (u.implementationClassUid !== undefined)
      parts.push(encodeItem(ItemType.ImplementationClassUid, uidItem.encode(u.implementationClassUid)));
    if (u.asyncOpsWindow) parts.push(encodeItem(ItemType.AsynchronousOperationsWindow, asyncOpsWindowItem.encode(u.asyncOpsWindow)));
    for (const s of u.roleSelections) parts.push(encodeItem(ItemType.ScpScuRoleSelection, roleSelectionItem.encode(s)));
    if (u.implementationVersionName !== undefined)
      parts.push(encodeItem(ItemType.ImplementationVersionName, uidItem.encode(u.implementationVersionName)));
    for (const s of u.sopClassExtended) parts.push(encodeItem(ItemType.SopClassExtendedNegotiation, sopClassExtendedItem.encode(s)));
    for (const s of u.sopClassCommonExtended)
      parts.push(encodeItem(ItemType.SopClassCommonExtendedNegotiation, sopClassCommonExtendedItem.encode(s)));
    if (u.userIdentityRq) parts.push(encodeItem(ItemType.UserIdentityRq, userIdentityRqItem.encode(u.userIdentityRq)));
    if (u.userIdentityAc) parts.push(encodeItem(ItemType.UserIdentityAc, userIdentityAcItem.encode(u.userIdentityAc)));
    for (const raw of u.unknown) parts.push(encodeItem(raw.type, raw.value));
    return Buffer.concat(parts);
  },
  decode(value: Buffer): UserInformation {
    const u = emptyUserInformation();
    for (const sub of decodeItems(value, 'user information')) {
      switch (sub.type) {
        case ItemType.MaximumLength: u.maximumLength = maximumLengthItem.decode(sub.value); break;
        case ItemType.ImplementationClassUid: u.implementationClassUid = uidItem.decode(sub.value); break;
        case ItemType.ImplementationVersionName: u.implementationVersionName = uidItem.decode(sub.value); break;
        case ItemType.AsynchronousOperationsWindow: u.asyncOpsWindow = asyncOpsWindowItem.decode(sub.value); break;
        case ItemType.ScpScuRoleSelection: u.roleSelections.push(roleSelectionItem.decode(sub.value)); break;
        case ItemType.SopClassExtendedNegotiation: u.sopClassExtended.push(sopClassExtendedItem.decode(sub.value)); break;
        case ItemType.SopClassCommonExtendedNegotiation: u.sopClassCommonExtended.push(sopClassCommonExtendedItem.decode(sub.value)); break;
        case ItemType.UserIdentityRq: u.userIdentityRq = userIdentityRqItem.decode(sub.value); break;
        case ItemType.UserIdentityAc: u.userIdentityAc = userIdentityAcItem.decode(sub.value); break;
        default: u.unknown.push({ type: sub.type, value: Buffer.from(sub.value) });
      }
    }
    return u;
  },
};
