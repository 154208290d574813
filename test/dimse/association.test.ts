import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, type DimseCommand } from '../../src/dimse/dimse-command.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../../src/dimse/constants.js';
import { encodePdu, type AAssociateAc, type PDataTf, type Pdu } from '../../src/dimse/pdu.js';
import {
  CT_IMAGE_STORAGE, CT_SMALL, EXPLICIT_LE, IMPLICIT_LE, VERIFICATION,
  associateRq, rawAssociate, receivePdus, startScp, type TestScp,
} from './helpers.js';

const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';

/** The data set of a Part 10 file: after preamble, "DICM" and the File Meta Information group. */
function dataSetOf(file: string): Buffer {
  const bytes = readFileSync(file);
  const groupLength = bytes.readUInt32LE(132 + 8);
  return bytes.subarray(132 + 12 + groupLength);
}

function pData(presentationContextId: number, isCommand: boolean, data: Buffer, fragment = data.length): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += fragment) {
    const part = data.subarray(off, off + fragment);
    out.push(encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId, isCommand, isLast: off + fragment >= data.length, data: part }] }));
  }
  return out;
}

function responseOf(pdus: Pdu[]): DimseCommand {
  const p = pdus.find((x): x is PDataTf => x.type === 'P-DATA-TF');
  if (!p) throw new Error(`no P-DATA-TF in ${pdus.map((x) => x.type).join(',')}`);
  return decodeCommand(Buffer.concat(p.pdvs.map((v) => v.data)));
}

describe('association negotiation (raw A-ASSOCIATE-RQ)', () => {
  let t: TestScp;
  beforeAll(async () => {
    t = await startScp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers each presentation context and the user information as PS3.7 Annex D allows', async () => {
    const rq = associateRq({}, [
      { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] },
      { id: 3, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [IMPLICIT_LE, '1.2.840.10008.1.2.4.50', EXPLICIT_LE] },
      { id: 5, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.50'] },
      { id: 7, abstractSyntax: '1.2.840.10008.5.1.4.1.2.2.1', transferSyntaxes: [IMPLICIT_LE] },
      { id: 9, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: ['1.2.3.4.5.6'] },
    ]);
    rq.userInformation.asyncOpsWindow = { maxOperationsInvoked: 5, maxOperationsPerformed: 5 };
    rq.userInformation.roleSelections.push({ sopClassUid: CT_IMAGE_STORAGE, scuRole: 1, scpRole: 1 });
    rq.userInformation.sopClassExtended.push({ sopClassUid: CT_IMAGE_STORAGE, serviceClassApplicationInformation: Buffer.from([1, 0, 0, 0]) });
    const { client, answer } = await rawAssociate(t.port, rq);
    expect(answer.type).toBe('A-ASSOCIATE-AC');
    const ac = answer as AAssociateAc;
    expect(ac.calledAeTitle).toBe('BRIDGE');
    expect(ac.callingAeTitle).toBe('RAW');
    expect(ac.presentationContexts.map(({ id, result }) => ({ id, result }))).toEqual([
      { id: 1, result: 0 }, { id: 3, result: 0 }, { id: 5, result: 0 }, { id: 7, result: 3 }, { id: 9, result: 4 },
    ]);
    // Preference: explicit VR LE, implicit VR LE, then the requestor's order.
    expect(ac.presentationContexts[1]!.transferSyntax).toBe(EXPLICIT_LE);
    expect(ac.presentationContexts[2]!.transferSyntax).toBe('1.2.840.10008.1.2.4.90');
    expect(ac.userInformation).toMatchObject({
      maximumLength: 262_144,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      asyncOpsWindow: { maxOperationsInvoked: 1, maxOperationsPerformed: 1 },
      roleSelections: [],
      sopClassExtended: [],
    });
    await client.write(encodePdu({ type: 'A-RELEASE-RQ' }));
    expect((await receivePdus(client, 2)).map((p) => p.type)).toEqual(['A-ASSOCIATE-AC', 'A-RELEASE-RP']);
    client.destroy(); // the requestor closes the transport after A-RELEASE-RP (PS3.8 AR-3)
  });

  it('honours a configured transfer syntax preference', async () => {
    const pref = await startScp({ transferSyntaxPreference: [IMPLICIT_LE] });
    try {
      const { client, answer } = await rawAssociate(pref.port, associateRq({}, [
        { id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_LE, IMPLICIT_LE] },
      ]));
      expect((answer as AAssociateAc).presentationContexts[0]).toMatchObject({ result: 0, transferSyntax: IMPLICIT_LE });
      client.destroy();
    } finally {
      await pref.stop();
    }
  });

  it('answers C-STORE with a C000-range failure when the data set is another instance than the command says', async () => {
    const { client } = await rawAssociate(t.port, associateRq({}, [
      { id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_LE] },
    ]));
    const before = t.records.length;
    const command = encodeCommand({
      commandField: 0x0001, messageId: 7, priority: 0, commandDataSetType: 0x0000,
      affectedSopClassUid: CT_IMAGE_STORAGE, affectedSopInstanceUid: '1.2.3.999',
    });
    for (const pdu of [...pData(1, true, command, 20), ...pData(1, false, dataSetOf(CT_SMALL), 1000)]) await client.write(pdu);
    const rsp = responseOf(await receivePdus(client, 2));
    expect(rsp).toMatchObject({ commandField: 0x8001, messageIdBeingRespondedTo: 7, affectedSopInstanceUid: '1.2.3.999' });
    expect(rsp.status! & 0xf000).toBe(0xc000);
    expect(rsp.errorComment).toMatch(/SOP Instance UID/);
    expect(rsp.errorComment!.length).toBeLessThanOrEqual(64);
    expect(t.records.length).toBe(before);
    client.destroy();
  });

  it('a command SOP Instance UID that is a UID must still be the data set\'s when the SOP Class UID is no UID', async () => {
    const { client } = await rawAssociate(t.port, associateRq({}, [{ id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_LE] }]));
    const before = t.records.length;
    const command = encodeCommand({ commandField: 0x0001, messageId: 9, priority: 0, commandDataSetType: 0x0000, affectedSopClassUid: '31', affectedSopInstanceUid: '1.2.3.4' });
    for (const pdu of [...pData(1, true, command), ...pData(1, false, dataSetOf(CT_SMALL), 1000)]) await client.write(pdu);
    const rsp = responseOf(await receivePdus(client, 2));
    expect(rsp).toMatchObject({ commandField: 0x8001, status: 0xc000, affectedSopInstanceUid: '1.2.3.4' });
    expect(t.records.length).toBe(before);
    client.destroy();
  });

  // dcmsend puts "31" in the command when the data set's UIDs are encoded UN (pydicom rtdose_rle.dcm).
  it.each([
    ['takes the data set\'s UIDs when they fit the context', CT_IMAGE_STORAGE, 0x0000, undefined],
    ['refuses 0122 when the data set\'s SOP Class is not the context\'s', MR_IMAGE_STORAGE, 0x0122, /SOP Class/],
  ])('command UIDs that are no UIDs: %s', async (_name, abstractSyntax, status, comment) => {
    const { client } = await rawAssociate(t.port, associateRq({}, [{ id: 1, abstractSyntax, transferSyntaxes: [EXPLICIT_LE] }]));
    const before = t.records.length;
    const command = encodeCommand({
      commandField: 0x0001, messageId: 8, priority: 0, commandDataSetType: 0x0000,
      affectedSopClassUid: '31', affectedSopInstanceUid: '31',
    });
    for (const pdu of [...pData(1, true, command), ...pData(1, false, dataSetOf(CT_SMALL), 1000)]) await client.write(pdu);
    const rsp = responseOf(await receivePdus(client, 2));
    expect(rsp).toMatchObject({ commandField: 0x8001, messageIdBeingRespondedTo: 8, status });
    if (comment) expect(rsp.errorComment).toMatch(comment);
    expect(t.records.length).toBe(before + (status === 0 ? 1 : 0));
    if (status === 0) {
      expect(t.records.at(-1)!.instance).toMatchObject({ sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid: '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322' });
      // The response names the UIDs the record was stored under, so a success always names a durable record.
      expect(rsp).toMatchObject({ affectedSopClassUid: CT_IMAGE_STORAGE, affectedSopInstanceUid: '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322' });
    }
    client.destroy();
  });

  it('answers an unsupported DIMSE request that has a response form with 0211', async () => {
    const { client } = await rawAssociate(t.port);
    const command = encodeCommand({ commandField: 0x0020, messageId: 3, priority: 0, commandDataSetType: 0x0101, affectedSopClassUid: VERIFICATION });
    for (const pdu of pData(1, true, command)) await client.write(pdu);
    expect(responseOf(await receivePdus(client, 2))).toMatchObject({ commandField: 0x8020, messageIdBeingRespondedTo: 3, status: 0x0211 });
    client.destroy();
  });

  it('aborts on a DIMSE command field it does not know', async () => {
    const { client } = await rawAssociate(t.port);
    const command = encodeCommand({ commandField: 0x0777, messageId: 3, commandDataSetType: 0x0101 });
    for (const pdu of pData(1, true, command)) await client.write(pdu);
    await client.closed;
    expect(await receivePdus(client, 2)).toContainEqual({ type: 'A-ABORT', source: 0, reason: 0 });
  });
});

/** SOP Instance UID (0008,0018) of an Explicit VR Little Endian data set. */
function sopInstanceUidOf(dataSet: Buffer): string {
  const at = dataSet.indexOf(Buffer.from([0x08, 0x00, 0x18, 0x00, 0x55, 0x49]));
  if (at < 0) throw new Error('no (0008,0018)');
  return dataSet.toString('latin1', at + 8, at + 8 + dataSet.readUInt16LE(at + 6)).replace(/\0+$/, '');
}

describe('reading held while a C-STORE is handled', () => {
  it('takes a second C-STORE sent before the first response only after answering the first, in order', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const stored: string[] = [];
    let firstHandled!: () => void;
    const handled = new Promise<void>((resolve) => (firstHandled = resolve));
    const t = await startScp({
      onStore: async (record) => {
        stored.push(record.instance.sopInstanceUid);
        if (stored.length === 1) {
          firstHandled();
          await gate;
        }
      },
    });
    try {
      const { client } = await rawAssociate(t.port, associateRq({}, [
        { id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_LE] },
      ]));
      const dataSet = dataSetOf(CT_SMALL);
      const uid = sopInstanceUidOf(dataSet);
      const store = (messageId: number): Buffer[] => [
        ...pData(1, true, encodeCommand({
          commandField: 0x0001, messageId, priority: 0, commandDataSetType: 0x0000,
          affectedSopClassUid: CT_IMAGE_STORAGE, affectedSopInstanceUid: uid,
        })),
        ...pData(1, false, dataSet, 4096),
      ];
      await client.write(Buffer.concat([...store(7), ...store(8)]));
      await handled;
      expect(stored).toHaveLength(1);
      expect(splitResponses(client.received)).toHaveLength(0);
      open();
      const pdus = await receivePdus(client, 3);
      const responses = pdus.slice(1).map((p) => responseOf([p]));
      expect(responses.map((r) => [r.messageIdBeingRespondedTo, r.status])).toEqual([[7, 0], [8, 0]]);
      expect(stored).toEqual([uid, uid]);
      client.destroy();
    } finally {
      await t.stop();
    }
  });
});

/** The P-DATA-TF PDUs in what the client received after the A-ASSOCIATE-AC. */
function splitResponses(received: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 6 <= received.length; off += 6 + received.readUInt32BE(off + 2)) {
    if (received[off] === 0x04) out.push(received.subarray(off, off + 6 + received.readUInt32BE(off + 2)));
  }
  return out;
}

describe('release, abort and timers', () => {
  it('initiates A-RELEASE on graceful close and finishes when the peer answers', async () => {
    const t = await startScp();
    const closed: Array<{ endedBy: string }> = [];
    t.scp.on('associationClosed', (e) => closed.push(e));
    const { client } = await rawAssociate(t.port);
    const closing = t.scp.close({ graceMs: 10_000 });
    const pdus = await receivePdus(client, 2);
    expect(pdus[1]).toEqual({ type: 'A-RELEASE-RQ' });
    await client.write(encodePdu({ type: 'A-RELEASE-RP' }));
    await closing;
    await client.closed;
    expect(closed).toEqual([expect.objectContaining({ endedBy: 'release' })]);
    expect(t.scp.listening).toBe(false);
  });

  it('aborts associations still running after the grace period', async () => {
    const t = await startScp();
    const { client } = await rawAssociate(t.port);
    await t.scp.close({ graceMs: 50 });
    await client.closed;
    const types = (await receivePdus(client, 3)).map((p) => p.type);
    expect(types).toEqual(['A-ASSOCIATE-AC', 'A-RELEASE-RQ', 'A-ABORT']);
    expect(t.scp.activeAssociations).toBe(0);
  });

  it('closes on a received A-ABORT', async () => {
    const t = await startScp();
    const closed: Array<{ endedBy: string }> = [];
    t.scp.on('associationClosed', (e) => closed.push(e));
    try {
      const { client } = await rawAssociate(t.port);
      await client.write(encodePdu({ type: 'A-ABORT', source: 0, reason: 0 }));
      await client.closed;
      await expect.poll(() => closed).toEqual([expect.objectContaining({ endedBy: 'abort-received' })]);
    } finally {
      await t.stop();
    }
  });

  it('aborts an association idle for longer than the idle timeout', async () => {
    const t = await startScp({ idleTimeoutMs: 200 });
    const closed: Array<{ endedBy: string }> = [];
    t.scp.on('associationClosed', (e) => closed.push(e));
    try {
      const { client } = await rawAssociate(t.port);
      await client.closed;
      expect((await receivePdus(client, 2)).map((p) => p.type)).toEqual(['A-ASSOCIATE-AC', 'A-ABORT']);
      await expect.poll(() => closed).toEqual([expect.objectContaining({ endedBy: 'timeout' })]);
    } finally {
      await t.stop();
    }
  });

  it('closes a connection that sends no A-ASSOCIATE-RQ when ARTIM expires', async () => {
    const t = await startScp({ artimTimeoutMs: 200 });
    try {
      const { RawClient } = await import('./helpers.js');
      const client = await RawClient.open(t.port);
      await client.closed;
      expect(client.received.length).toBe(0);
    } finally {
      await t.stop();
    }
  });
});
