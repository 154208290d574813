import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePdu, type Pdu } from '../../src/dimse/pdu.js';
import { run } from '../support/run.js';
import { encodeCommand } from '../../src/dimse/dimse-command.js';
import { RawClient, associateRq, rawAssociate, receivePdus, startScp, type TestScp } from './helpers.js';

const echoOk = async (port: number): Promise<void> => {
  const r = await run('echoscu', ['-aet', 'SCU', '-aec', 'BRIDGE', '127.0.0.1', String(port)]);
  expect(r.code).toBe(0);
};

/** Sends bytes on a fresh connection and returns the PDUs received until the SCP closed it. */
async function sendRaw(port: number, ...parts: Buffer[]): Promise<{ pdus: Pdu[]; client: RawClient }> {
  const client = await RawClient.open(port);
  for (const p of parts) await client.write(p);
  await client.closed;
  return { pdus: await receivePdus(client, 10), client };
}

describe('bad input never stops the SCP', () => {
  let t: TestScp;
  const closed: Array<{ endedBy: string }> = [];
  beforeAll(async () => {
    // ARTIM long enough that a prompt close below cannot be the timer's doing.
    t = await startScp({ artimTimeoutMs: 60_000 });
    t.scp.on('associationClosed', (e) => closed.push(e));
  });
  afterAll(async () => {
    await t.stop();
  });

  it('aborts on garbage bytes (unrecognized PDU type) with source 2, reason 1', async () => {
    const { pdus } = await sendRaw(t.port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(pdus).toEqual([{ type: 'A-ABORT', source: 2, reason: 1 }]);
    await echoOk(t.port);
  });

  it('closes after an A-ASSOCIATE-RQ cut short and a peer close', async () => {
    const rq = encodePdu(associateRq());
    const client = await RawClient.open(t.port);
    await client.write(rq.subarray(0, 40));
    client.socket.end();
    await client.closed;
    expect(client.received.length).toBe(0);
    await echoOk(t.port);
  });

  it('aborts an A-ASSOCIATE-RQ whose items are malformed', async () => {
    const rq = encodePdu(associateRq());
    rq.writeUInt16BE(0xfff0, 6 + 68 + 2); // application context item length beyond the PDU
    const { pdus } = await sendRaw(t.port, rq);
    expect(pdus).toEqual([{ type: 'A-ABORT', source: 2, reason: 6 }]);
    await echoOk(t.port);
  });

  it('aborts P-DATA-TF before association with source 2, reason 2 (unexpected PDU)', async () => {
    const p = encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(20) }] });
    const { pdus } = await sendRaw(t.port, p);
    expect(pdus).toEqual([{ type: 'A-ABORT', source: 2, reason: 2 }]);
    await echoOk(t.port);
  });

  it('aborts a PDU announcing 2 GB without buffering it, and memory stays bounded', async () => {
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 20; i++) {
      const header = Buffer.from([0x04, 0, 0x7f, 0xff, 0xff, 0xff]);
      const { pdus } = await sendRaw(t.port, encodePdu(associateRq()), header, Buffer.alloc(256 * 1024, 0xab));
      expect(pdus.at(-1)).toEqual({ type: 'A-ABORT', source: 2, reason: 6 });
    }
    // Same with the oversize header as the very first PDU.
    const { pdus } = await sendRaw(t.port, Buffer.from([0x04, 0, 0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(64 * 1024));
    expect(pdus).toEqual([{ type: 'A-ABORT', source: 2, reason: 6 }]);
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(50 * 1024 * 1024);
    await echoOk(t.port);
    expect(closed.filter((c) => c.endedBy === 'abort-sent').length).toBeGreaterThanOrEqual(20);
  });

  it('aborts an A-ASSOCIATE-RQ header announcing more than an association PDU may be', async () => {
    const { pdus } = await sendRaw(t.port, Buffer.from([0x01, 0, 0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(1024));
    expect(pdus).toEqual([{ type: 'A-ABORT', source: 2, reason: 6 }]);
    await echoOk(t.port);
  });

  it('aborts with source 2, reason 6 when a data fragment comes before its command', async () => {
    const { client } = await rawAssociate(t.port);
    await client.write(encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand: false, isLast: true, data: Buffer.alloc(16) }] }));
    await client.closed;
    expect((await receivePdus(client, 2)).at(-1)).toEqual({ type: 'A-ABORT', source: 2, reason: 6 });
    await echoOk(t.port);
  });

  it('aborts with source 2, reason 6 on a PDV for a presentation context it did not accept', async () => {
    const { client } = await rawAssociate(t.port);
    const command = encodeCommand({ commandField: 0x0030, messageId: 1, affectedSopClassUid: '1.2.840.10008.1.1', commandDataSetType: 0x0101 });
    await client.write(encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 3, isCommand: true, isLast: true, data: command }] }));
    await client.closed;
    expect((await receivePdus(client, 2)).at(-1)).toEqual({ type: 'A-ABORT', source: 2, reason: 6 });
    await echoOk(t.port);
  });

  it('survives a peer that resets the connection in the middle of a data set', async () => {
    const client = await RawClient.open(t.port);
    await client.write(encodePdu(associateRq()));
    await client.receive(10);
    await client.write(Buffer.from([0x04, 0, 0, 0, 0x10, 0x00, 0, 0, 0x0f, 0xfa, 1, 0]));
    client.socket.resetAndDestroy();
    await client.closed;
    await echoOk(t.port);
  });
});
