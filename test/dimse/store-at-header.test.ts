/**
 * Issue 20 item 1: the record of a C-STORE is committed (the StoreHandler
 * runs) as soon as its header is read, while the pixel data still streams in;
 * the C-STORE-RSP waits for both the commit and the end of the message.
 * Raw P-DATA over a real socket, so each test decides where the sender stops.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, type DimseCommand } from '../../src/dimse/dimse-command.js';
import { encodePdu, type PDataTf, type Pdu } from '../../src/dimse/pdu.js';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import {
  CT_IMAGE_STORAGE, CT_SMALL, EXPLICIT_LE, associateRq, rawAssociate, receivePdus, startScp,
  type RawClient, type TestScp,
} from './helpers.js';

/** The data set of a Part 10 file: after preamble, "DICM" and the File Meta Information group. */
function dataSetOf(file: string): Buffer {
  const bytes = readFileSync(file);
  const groupLength = bytes.readUInt32LE(132 + 8);
  return bytes.subarray(132 + 12 + groupLength);
}

const DATA_SET = dataSetOf(CT_SMALL);
/** Offset of the top-level (7FE0,0010) OW element of CT_small (Explicit VR Little Endian). */
const PIXEL_DATA_AT = DATA_SET.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57]));
const SOP_INSTANCE_UID = ((): string => {
  const at = DATA_SET.indexOf(Buffer.from([0x08, 0x00, 0x18, 0x00, 0x55, 0x49]));
  return DATA_SET.toString('latin1', at + 8, at + 8 + DATA_SET.readUInt16LE(at + 6)).replace(/\0+$/, '');
})();

function pData(isCommand: boolean, data: Buffer, isLast: boolean): Buffer {
  return encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand, isLast, data }] });
}

function command(messageId: number, sopInstanceUid = SOP_INSTANCE_UID): Buffer {
  return pData(true, encodeCommand({
    commandField: 0x0001, messageId, priority: 0, commandDataSetType: 0x0000,
    affectedSopClassUid: CT_IMAGE_STORAGE, affectedSopInstanceUid: sopInstanceUid,
  }), true);
}

/** The C-STORE-RSPs among the PDUs after the A-ASSOCIATE-AC. */
function responses(pdus: Pdu[]): DimseCommand[] {
  return pdus
    .filter((p): p is PDataTf => p.type === 'P-DATA-TF')
    .map((p) => decodeCommand(Buffer.concat(p.pdvs.map((v) => v.data))));
}

/** A logger whose JSON lines are kept. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** An SCP whose handler records each call and waits for `release()` before it resolves (or rejects). */
async function gatedScp(options: { fail?: boolean; logger?: Logger } = {}) {
  const calls: InstanceRecord[] = [];
  const waiting: Array<() => void> = [];
  let called: (() => void) | undefined;
  const t: TestScp = await startScp({
    ...(options.logger ? { logger: options.logger } : {}),
    onStore: async (record) => {
      calls.push(record);
      called?.();
      await new Promise<void>((resolve) => waiting.push(resolve));
      if (options.fail) throw new Error('disk refused');
    },
  });
  return {
    t,
    calls,
    /** Resolves once the handler has been called `n` times in all. */
    handlerCalled: (n = 1) =>
      new Promise<void>((resolve) => {
        if (calls.length >= n) return resolve();
        called = () => calls.length >= n && resolve();
      }),
    release: () => waiting.splice(0).forEach((resolve) => resolve()),
  };
}

async function associate(t: TestScp): Promise<RawClient> {
  const { client } = await rawAssociate(t.port, associateRq({}, [{ id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_LE] }]));
  return client;
}

/** Lets the SCP read and act on what was written (socket round trip plus a turn of the event loop). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('C-STORE record committed at its header', () => {
  it('calls the handler once the header is in, before the pixel data ends, and answers only after both', async () => {
    const scp = await gatedScp();
    try {
      const client = await associate(scp.t);
      // The header and the first 100 bytes of the pixel data element: not the whole message.
      await client.write(Buffer.concat([command(1), pData(false, DATA_SET.subarray(0, PIXEL_DATA_AT + 100), false)]));
      await scp.handlerCalled();
      expect(scp.calls[0]!.instance.sopInstanceUid).toBe(SOP_INSTANCE_UID);
      expect(scp.calls[0]!.receipt.bytesReceived).toBe(PIXEL_DATA_AT + 100);
      // The rest of the message arrives while the commit has not finished: no answer yet.
      await client.write(pData(false, DATA_SET.subarray(PIXEL_DATA_AT + 100), true));
      await settle();
      expect(responses(await receivePdus(client, 1))).toHaveLength(0);
      scp.release();
      const [rsp] = responses(await receivePdus(client, 2));
      expect(rsp).toMatchObject({ commandField: 0x8001, messageIdBeingRespondedTo: 1, status: 0x0000 });
      expect(scp.calls).toHaveLength(1);
      client.destroy();
    } finally {
      await scp.t.stop();
    }
  });

  it('answers only at the end of the message when the commit finished first', async () => {
    const scp = await gatedScp();
    try {
      const client = await associate(scp.t);
      await client.write(Buffer.concat([command(2), pData(false, DATA_SET.subarray(0, PIXEL_DATA_AT + 100), false)]));
      await scp.handlerCalled();
      scp.release();
      await settle();
      expect(responses(await receivePdus(client, 1))).toHaveLength(0);
      await client.write(pData(false, DATA_SET.subarray(PIXEL_DATA_AT + 100), true));
      const [rsp] = responses(await receivePdus(client, 2));
      expect(rsp).toMatchObject({ messageIdBeingRespondedTo: 2, status: 0x0000 });
      client.destroy();
    } finally {
      await scp.t.stop();
    }
  });

  it('answers A700 after the message ends when the early commit failed', async () => {
    const scp = await gatedScp({ fail: true });
    try {
      const client = await associate(scp.t);
      await client.write(Buffer.concat([command(3), pData(false, DATA_SET.subarray(0, PIXEL_DATA_AT + 100), false)]));
      await scp.handlerCalled();
      scp.release();
      await settle();
      expect(responses(await receivePdus(client, 1))).toHaveLength(0);
      await client.write(pData(false, DATA_SET.subarray(PIXEL_DATA_AT + 100), true));
      const [rsp] = responses(await receivePdus(client, 2));
      expect(rsp).toMatchObject({ messageIdBeingRespondedTo: 3, status: 0xa700, errorComment: 'Not stored: disk refused' });
      client.destroy();
    } finally {
      await scp.t.stop();
    }
  });

  it('does not commit a header whose SOP Instance UID differs from the command, and answers C000 at the end', async () => {
    const scp = await gatedScp();
    try {
      const client = await associate(scp.t);
      await client.write(Buffer.concat([command(4, '1.2.3.999'), pData(false, DATA_SET.subarray(0, PIXEL_DATA_AT + 100), false)]));
      await settle();
      expect(scp.calls).toHaveLength(0);
      expect(responses(await receivePdus(client, 1))).toHaveLength(0); // the rest of the message is still read
      await client.write(pData(false, DATA_SET.subarray(PIXEL_DATA_AT + 100), true));
      const [rsp] = responses(await receivePdus(client, 2));
      expect(rsp).toMatchObject({ messageIdBeingRespondedTo: 4, status: 0xc000, errorComment: 'SOP Instance UID differs from Affected SOP Instance UID' });
      expect(scp.calls).toHaveLength(0);
      client.destroy();
    } finally {
      await scp.t.stop();
    }
  });

  it('keeps the committed record of a data set that turns out truncated, answers C000 and logs it without patient data', async () => {
    const { logger, lines } = capturingLogger();
    const scp = await gatedScp({ logger });
    try {
      const client = await associate(scp.t);
      // The last fragment is flagged last 1,000 bytes before the declared pixel data length ends.
      await client.write(Buffer.concat([
        command(5),
        pData(false, DATA_SET.subarray(0, PIXEL_DATA_AT + 100), false),
        pData(false, DATA_SET.subarray(PIXEL_DATA_AT + 100, DATA_SET.length - 1000), true),
      ]));
      await scp.handlerCalled();
      scp.release();
      const [rsp] = responses(await receivePdus(client, 2));
      expect(rsp!.messageIdBeingRespondedTo).toBe(5);
      expect(rsp!.status! & 0xf000).toBe(0xc000);
      expect(rsp!.errorComment).toMatch(/truncated/);
      expect(scp.calls).toHaveLength(1);
      const kept = lines.find((l) => String(l.msg).startsWith('data set invalid after its header'));
      expect(kept).toMatchObject({ level: 40, sopInstanceUid: SOP_INSTANCE_UID, status: 'C000H' });
      expect(JSON.stringify(lines)).not.toMatch(/CompressedSamples|1CT1/); // CT_small's patient name and ID
      client.destroy();
    } finally {
      await scp.t.stop();
    }
  });

  it('keeps the record committed at the header when the association is aborted mid-pixel-data, unacknowledged', async () => {
    const { logger, lines } = capturingLogger();
    const scp = await gatedScp({ logger });
    const cStores: unknown[] = [];
    const closed: Array<{ instances: number }> = [];
    scp.t.scp.on('cStore', (e) => cStores.push(e));
    scp.t.scp.on('associationClosed', (e) => closed.push(e));
    try {
      const client = await associate(scp.t);
      await client.write(Buffer.concat([command(6), pData(false, DATA_SET.subarray(0, PIXEL_DATA_AT + 100), false)]));
      await scp.handlerCalled();
      client.destroy(); // the sender goes away mid-pixel-data
      await expect.poll(() => closed.length).toBe(1);
      scp.release();
      await expect.poll(() => lines.some((l) => String(l.msg).startsWith('C-STORE not completed'))).toBe(true);
      expect(scp.calls).toHaveLength(1);
      expect(cStores).toHaveLength(0); // never answered, never counted as received
      expect(closed[0]).toMatchObject({ instances: 0 });
      expect(lines.find((l) => String(l.msg).startsWith('C-STORE not completed'))).toMatchObject({ level: 30, sopInstanceUid: SOP_INSTANCE_UID });
    } finally {
      await scp.t.stop();
    }
  });

  it('takes the next C-STORE on the association after an early-committed one, in order', async () => {
    const stored: string[] = [];
    const t = await startScp({ onStore: async (record) => void stored.push(record.instance.sopInstanceUid) });
    try {
      const client = await associate(t);
      const message = (id: number) => Buffer.concat([
        command(id),
        pData(false, DATA_SET.subarray(0, PIXEL_DATA_AT + 100), false),
        pData(false, DATA_SET.subarray(PIXEL_DATA_AT + 100), true),
      ]);
      await client.write(Buffer.concat([message(7), message(8), message(9)]));
      const rsps = responses(await receivePdus(client, 4));
      expect(rsps.map((r) => [r.messageIdBeingRespondedTo, r.status])).toEqual([[7, 0], [8, 0], [9, 0]]);
      expect(stored).toEqual([SOP_INSTANCE_UID, SOP_INSTANCE_UID, SOP_INSTANCE_UID]);
      client.destroy();
    } finally {
      await t.stop();
    }
  });
});
