import { describe, expect, it } from 'vitest';
import {
  MessageControlHeader, PduType, decodePdu, decodePdvs, encodePDataTf, encodePdu, messageControlHeader, messagePdvs, type PDataTf, type Pdu,
} from '../../src/dimse/pdu.js';
import {
  ItemType, asyncOpsWindowItem, decodeItems, emptyUserInformation, encodeItem, maximumLengthItem,
  presentationContextAcItem, presentationContextRqItem, roleSelectionItem, sopClassCommonExtendedItem,
  sopClassExtendedItem, uidItem, userIdentityAcItem, userIdentityRqItem, userInformationItem,
} from '../../src/dimse/pdu-items.js';
import { PduDecodeError } from '../../src/dimse/bytes.js';

/** encode → decode → equal, and the item header round-trips too. */
function roundTrip<T>(type: number, codec: { encode(v: T): Buffer; decode(b: Buffer): T }, value: T): void {
  const item = encodeItem(type, codec.encode(value));
  const [raw] = decodeItems(item, 'test');
  expect(raw!.type).toBe(type);
  expect(codec.decode(raw!.value)).toEqual(value);
}

describe('PDU items round-trip (PS3.8 9.3, PS3.7 Annex D)', () => {
  it('Application Context, Abstract and Transfer Syntax, Implementation Class UID and Version Name (0x10 0x30 0x40 0x52 0x55)', () => {
    for (const type of [ItemType.ApplicationContext, ItemType.AbstractSyntax, ItemType.TransferSyntax, ItemType.ImplementationClassUid, ItemType.ImplementationVersionName])
      roundTrip(type, uidItem, '1.2.840.10008.3.1.1.1');
  });
  it('Presentation Context RQ (0x20)', () => {
    roundTrip(ItemType.PresentationContextRq, presentationContextRqItem, {
      id: 7, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
    });
  });
  it('Presentation Context AC (0x21)', () => {
    roundTrip(ItemType.PresentationContextAc, presentationContextAcItem, { id: 7, result: 4, transferSyntax: '1.2.840.10008.1.2' });
  });
  it('Maximum Length (0x51)', () => roundTrip(ItemType.MaximumLength, maximumLengthItem, 262144));
  it('Asynchronous Operations Window (0x53)', () =>
    roundTrip(ItemType.AsynchronousOperationsWindow, asyncOpsWindowItem, { maxOperationsInvoked: 3, maxOperationsPerformed: 1 }));
  it('SCP/SCU Role Selection (0x54)', () =>
    roundTrip(ItemType.ScpScuRoleSelection, roleSelectionItem, { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: 0, scpRole: 1 }));
  it('SOP Class Extended Negotiation (0x56)', () =>
    roundTrip(ItemType.SopClassExtendedNegotiation, sopClassExtendedItem, {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2', serviceClassApplicationInformation: Buffer.from([2, 0, 1, 0, 0, 0]),
    }));
  it('SOP Class Common Extended Negotiation (0x57)', () =>
    roundTrip(ItemType.SopClassCommonExtendedNegotiation, sopClassCommonExtendedItem, {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.1.2', serviceClassUid: '1.2.840.10008.4.2', relatedGeneralSopClassUids: ['1.2.840.10008.5.1.4.1.1.1.2.1', '1.2.3'],
    }));
  it('User Identity RQ (0x58) and AC (0x59)', () => {
    roundTrip(ItemType.UserIdentityRq, userIdentityRqItem, {
      userIdentityType: 2, positiveResponseRequested: true, primaryField: Buffer.from('user'), secondaryField: Buffer.from('secret'),
    });
    roundTrip(ItemType.UserIdentityAc, userIdentityAcItem, Buffer.from('token'));
  });
  it('User Information (0x50) with every sub-item, unknown ones kept', () => {
    roundTrip(ItemType.UserInformation, userInformationItem, {
      ...emptyUserInformation(),
      maximumLength: 16384,
      implementationClassUid: '1.2.3.4',
      implementationVersionName: 'X_1',
      asyncOpsWindow: { maxOperationsInvoked: 1, maxOperationsPerformed: 1 },
      roleSelections: [{ sopClassUid: '1.2.3', scuRole: 1, scpRole: 0 }],
      sopClassExtended: [{ sopClassUid: '1.2.3', serviceClassApplicationInformation: Buffer.from([1]) }],
      sopClassCommonExtended: [{ sopClassUid: '1.2.3', serviceClassUid: '1.2.4', relatedGeneralSopClassUids: [] }],
      userIdentityRq: { userIdentityType: 1, positiveResponseRequested: false, primaryField: Buffer.from('u'), secondaryField: Buffer.alloc(0) },
      unknown: [{ type: 0x5f, value: Buffer.from([9, 9]) }],
    });
  });
  it('rejects a truncated item', () => {
    const item = encodeItem(ItemType.MaximumLength, maximumLengthItem.encode(1));
    expect(() => decodeItems(item.subarray(0, 6), 'test')).toThrow(PduDecodeError);
  });
});

describe('PDUs round-trip (PS3.8 Tables 9-11 to 9-26)', () => {
  const pdus: Pdu[] = [
    {
      type: 'A-ASSOCIATE-RQ', protocolVersion: 1, calledAeTitle: 'BRIDGE', callingAeTitle: 'MODALITY',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [{ id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }],
      userInformation: { ...emptyUserInformation(), maximumLength: 16384, implementationClassUid: '1.2.3' },
    },
    {
      type: 'A-ASSOCIATE-AC', protocolVersion: 1, calledAeTitle: 'BRIDGE', callingAeTitle: 'MODALITY',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [{ id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' }, { id: 3, result: 3, transferSyntax: '1.2.840.10008.1.2' }],
      userInformation: { ...emptyUserInformation(), maximumLength: 262144, implementationClassUid: '1.2.3', implementationVersionName: 'DICOMFHIRBRIDGE' },
    },
    { type: 'A-ASSOCIATE-RJ', result: 2, source: 3, reason: 1 },
    {
      type: 'P-DATA-TF',
      pdvs: [
        { presentationContextId: 1, isCommand: true, isLast: true, data: Buffer.from([1, 2, 3]) },
        { presentationContextId: 1, isCommand: false, isLast: false, data: Buffer.alloc(0) },
      ],
    },
    { type: 'A-RELEASE-RQ' },
    { type: 'A-RELEASE-RP' },
    { type: 'A-ABORT', source: 2, reason: 6 },
  ];
  for (const pdu of pdus) {
    it(pdu.type, () => {
      const bytes = encodePdu(pdu);
      expect(bytes.readUInt32BE(2)).toBe(bytes.length - 6);
      expect(decodePdu(bytes[0]!, bytes.subarray(6))).toEqual(pdu);
    });
  }
  it('pads AE titles to 16 bytes and trims them on decode', () => {
    const rq = pdus[0]!;
    const bytes = encodePdu(rq);
    expect(bytes.subarray(10, 26).toString('latin1')).toBe('BRIDGE          ');
  });
  it('rejects an unknown PDU type', () => {
    expect(() => decodePdu(0x09, Buffer.alloc(4))).toThrow(/unknown PDU type/);
  });
});

describe('A-ASSOCIATE-RQ and -AC with every item they may carry round-trip', () => {
  it('A-ASSOCIATE-RQ: several presentation contexts, every user information sub-item', () => {
    const rq: Pdu = {
      type: 'A-ASSOCIATE-RQ', protocolVersion: 1, calledAeTitle: 'BRIDGE', callingAeTitle: 'MODALITY',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [
        { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
        { id: 3, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.4.50'] },
        { id: 255, abstractSyntax: '1.2.840.10008.5.1.4.1.2.2.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
      ],
      userInformation: {
        ...emptyUserInformation(),
        maximumLength: 0,
        implementationClassUid: '1.2.3',
        implementationVersionName: 'RQ_1',
        asyncOpsWindow: { maxOperationsInvoked: 0, maxOperationsPerformed: 0 },
        roleSelections: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: 1, scpRole: 1 }],
        sopClassExtended: [{ sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', serviceClassApplicationInformation: Buffer.from([1, 1, 0]) }],
        sopClassCommonExtended: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', serviceClassUid: '1.2.840.10008.4.2', relatedGeneralSopClassUids: [] }],
        userIdentityRq: { userIdentityType: 2, positiveResponseRequested: true, primaryField: Buffer.from('u'), secondaryField: Buffer.from('p') },
      },
    };
    const bytes = encodePdu(rq);
    expect(bytes[0]).toBe(PduType.AAssociateRq);
    expect(decodePdu(bytes[0]!, bytes.subarray(6))).toEqual(rq);
  });

  it('A-ASSOCIATE-AC: every presentation context result, user identity server response', () => {
    const ac: Pdu = {
      type: 'A-ASSOCIATE-AC', protocolVersion: 1, calledAeTitle: 'BRIDGE', callingAeTitle: 'MODALITY',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [0, 1, 2, 3, 4].map((result, i) => ({ id: i * 2 + 1, result, transferSyntax: '1.2.840.10008.1.2' })),
      userInformation: {
        ...emptyUserInformation(), maximumLength: 16384, implementationClassUid: '1.2.3',
        roleSelections: [{ sopClassUid: '1.2.3', scuRole: 0, scpRole: 1 }], userIdentityAc: Buffer.from('ok'),
      },
    };
    const bytes = encodePdu(ac);
    expect(decodePdu(bytes[0]!, bytes.subarray(6))).toEqual(ac);
  });
});

describe('P-DATA-TF framing: PDV items and message control header (PS3.8 9.3.5, Annex E.2)', () => {
  it('sets bit 0 for a command fragment and bit 1 for the last fragment, and reads them back', () => {
    const flags = [
      { isCommand: false, isLast: false, mch: 0x00 },
      { isCommand: true, isLast: false, mch: 0x01 },
      { isCommand: false, isLast: true, mch: 0x02 },
      { isCommand: true, isLast: true, mch: 0x03 },
    ];
    for (const { isCommand, isLast, mch } of flags) {
      expect(messageControlHeader({ isCommand, isLast })).toBe(mch);
      const pdu: PDataTf = { type: 'P-DATA-TF', pdvs: [{ presentationContextId: 5, isCommand, isLast, data: Buffer.from([9, 8, 7]) }] };
      const bytes = encodePdu(pdu);
      // PDU header, then the PDV item: length 2 + 3, context id, message control header, data
      expect([...bytes]).toEqual([PduType.PDataTf, 0, 0, 0, 0, 9, 0, 0, 0, 5, 5, mch, 9, 8, 7]);
      expect(decodePdu(bytes[0]!, bytes.subarray(6))).toEqual(pdu);
    }
    expect(MessageControlHeader).toEqual({ Command: 0x01, LastFragment: 0x02 });
  });

  it('encodes several PDVs in one P-DATA-TF, in order, and decodes them back', () => {
    const pdu: PDataTf = {
      type: 'P-DATA-TF',
      pdvs: [
        { presentationContextId: 1, isCommand: true, isLast: true, data: Buffer.from('command') },
        { presentationContextId: 1, isCommand: false, isLast: false, data: Buffer.alloc(1000, 1) },
        { presentationContextId: 1, isCommand: false, isLast: true, data: Buffer.alloc(0) },
      ],
    };
    const bytes = encodePDataTf(pdu);
    expect(bytes.equals(encodePdu(pdu))).toBe(true);
    expect(bytes.readUInt32BE(2)).toBe(3 * 6 + 7 + 1000);
    expect(decodePdvs(bytes.subarray(6))).toEqual(pdu.pdvs);
  });

  it('refuses a PDV item shorter than its context id and header, or longer than its PDU', () => {
    expect(() => decodePdvs(Buffer.from([0, 0, 0, 1, 1]))).toThrow(PduDecodeError);
    expect(() => decodePdvs(Buffer.from([0, 0, 0, 9, 1, 3, 0]))).toThrow(PduDecodeError);
  });

  it('splits a message part into PDVs that fit the peer maximum length, and they reassemble', () => {
    const part = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i & 0xff));
    for (const maxPduLength of [0, 4096, 1006, 1000, 7]) {
      const pdvs = messagePdvs(3, false, part, maxPduLength);
      for (const pdv of pdvs) {
        const pdu = encodePdu({ type: 'P-DATA-TF', pdvs: [pdv] });
        if (maxPduLength > 0) expect(pdu.readUInt32BE(2), `max ${maxPduLength}`).toBeLessThanOrEqual(maxPduLength);
        expect(pdv).toMatchObject({ presentationContextId: 3, isCommand: false });
      }
      expect(pdvs.map((p) => p.isLast)).toEqual(pdvs.map((_, i) => i === pdvs.length - 1));
      expect(Buffer.concat(pdvs.map((p) => p.data)).equals(part)).toBe(true);
    }
    expect(messagePdvs(1, false, part, 1006)).toHaveLength(10); // 1000 data bytes per PDV exactly
    expect(messagePdvs(1, false, part, 0)).toHaveLength(1);
  });

  it('sends an empty message part as one empty last PDV', () => {
    expect(messagePdvs(1, true, Buffer.alloc(0), 4096)).toEqual([{ presentationContextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(0) }]);
  });
});
