/**
 * Issue 22 item 1: a DIMSE message must arrive within a floor plus its size
 * at a minimum rate. A peer trickling bytes (which reset the idle timer on
 * the old code, keeping the association open for ever) is aborted with a log
 * line naming the peer; a normal sender is not affected.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeCommand } from '../../src/dimse/dimse-command.js';
import { MessageDeadline, type MessageDeadlineExpiry } from '../../src/dimse/message-deadline.js';
import { encodePdu } from '../../src/dimse/pdu.js';
import { run } from '../support/run.js';
import { associateRq, CT_IMAGE_STORAGE, CT_SMALL, EXPLICIT_LE, rawAssociate, receivePdus, startScp, type RawClient, type TestScp } from './helpers.js';

process.env.TCP_NODELAY = '1';

describe('MessageDeadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires at the floor plus the bytes at the minimum rate, and not before', () => {
    vi.useFakeTimers();
    const expired: MessageDeadlineExpiry[] = [];
    const d = new MessageDeadline(1_000, 100, (e) => expired.push(e));
    d.start();
    d.received(200); // buys 2 s more: due at 3 s
    vi.advanceTimersByTime(2_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([{ bytes: 200, elapsedMs: 3_000 }]);
    expect(d.inProgress).toBe(false);
    d.dispose();
  });

  it('stays quiet for a message completed in time, and for the next one started later', () => {
    vi.useFakeTimers();
    const expired: MessageDeadlineExpiry[] = [];
    const d = new MessageDeadline(1_000, 100, (e) => expired.push(e));
    d.start();
    d.received(50);
    vi.advanceTimersByTime(900);
    d.stop();
    vi.advanceTimersByTime(10_000);
    d.start();
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toHaveLength(1);
    d.dispose();
  });

  it('never fires after dispose', () => {
    vi.useFakeTimers();
    const onExpired = vi.fn();
    const d = new MessageDeadline(100, 100, onExpired);
    d.start();
    d.dispose();
    vi.advanceTimersByTime(10_000);
    expect(onExpired).not.toHaveBeenCalled();
  });
});

/** A logger whose warn lines are kept, parsed. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

const storeContexts = [{ id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_LE] }];
const command = encodeCommand({
  commandField: 0x0001,
  messageId: 1,
  affectedSopClassUid: CT_IMAGE_STORAGE,
  priority: 0,
  commandDataSetType: 0x0000,
  affectedSopInstanceUid: '1.2.3.4.5',
});
const pdv = (isCommand: boolean, isLast: boolean, data: Buffer): Buffer =>
  encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand, isLast, data }] });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends `send(i)` every intervalMs until the bridge closes the connection or `times` sends; how many went, and the PDUs received. */
async function trickle(client: RawClient, times: number, intervalMs: number, send: (i: number) => Buffer) {
  let sent = 0;
  for (; sent < times && !client.socket.destroyed && !client.socket.readableEnded; sent++) {
    await client.write(send(sent));
    await sleep(intervalMs);
  }
  return { sent, pdus: await receivePdus(client, 2) };
}

describe('slow senders (issue 22.1)', () => {
  let t: TestScp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('aborts a peer sending one-byte P-DATA-TFs more often than the idle timeout, and logs the peer', async () => {
    const { logger, lines } = capturingLogger();
    t = await startScp({ logger, idleTimeoutMs: 1_000, messageTimeoutMs: 300, minTransferRate: 1_000 });
    const { client, answer } = await rawAssociate(t.port, associateRq({}, storeContexts));
    expect(answer.type).toBe('A-ASSOCIATE-AC');
    await client.write(pdv(true, true, command));
    // 60 PDUs of one byte, one per 150 ms (9 s): each resets the idle timer, none completes the message.
    const { sent, pdus } = await trickle(client, 60, 150, () => pdv(false, false, Buffer.from([0])));
    expect(sent).toBeLessThan(60); // aborted while still trickling
    expect(pdus.map((p) => p.type)).toEqual(['A-ASSOCIATE-AC', 'A-ABORT']);
    const line = lines.find((l) => String(l.msg).includes('slower than the minimum transfer rate'));
    expect(line).toMatchObject({ peerAddress: '127.0.0.1', callingAeTitle: 'RAW', messageTimeoutMs: 300, minTransferRate: 1_000 });
    expect(t.records).toEqual([]);
  });

  it('aborts a peer trickling the bytes of one PDU', async () => {
    t = await startScp({ idleTimeoutMs: 1_000, messageTimeoutMs: 300, minTransferRate: 1_000 });
    const { client } = await rawAssociate(t.port, associateRq({}, storeContexts));
    await client.write(pdv(true, true, command));
    const pdu = pdv(false, true, Buffer.alloc(200));
    // The P-DATA-TF and PDV headers at once, then a byte every 300 ms (under the idle timeout).
    await client.write(pdu.subarray(0, 12 + 10));
    const { sent, pdus } = await trickle(client, 30, 300, (i) => pdu.subarray(22 + i, 23 + i));
    expect(sent).toBeLessThan(30);
    expect(pdus.map((p) => p.type)).toEqual(['A-ASSOCIATE-AC', 'A-ABORT']);
  });

  it('does not touch a C-STORE sent at an ordinary rate (storescu)', async () => {
    t = await startScp({ messageTimeoutMs: 300, minTransferRate: 1_000 });
    const r = await run('storescu', ['-aet', 'SCU', '-aec', 'BRIDGE', '127.0.0.1', String(t.port), CT_SMALL, CT_SMALL]);
    expect(r.code, r.stderr).toBe(0);
    expect(t.records).toHaveLength(2);
  });
});
