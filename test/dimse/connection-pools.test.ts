/**
 * Issue 22 item 2 and issue 21 item 6: a rejected or finished association
 * gives its slot back at once, and connections that have not sent a complete
 * A-ASSOCIATE-RQ live in their own bounded pool with a short timer, so idle
 * sockets cannot lock the modalities out. Real sockets against a StorageScp;
 * the modality is DCMTK storescu.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { evictionsFor, type AdmittedConnection } from '../../src/dimse/connection-admission.js';
import { encodePdu } from '../../src/dimse/pdu.js';
import { run } from '../support/run.js';
import { associateRq, CT_SMALL, RawClient, rawAssociate, receivePdus, startScp, type TestScp } from './helpers.js';

process.env.TCP_NODELAY = '1';

const storescu = (port: number, file: string) => run('storescu', ['-d', '-aet', 'MODALITY', '-aec', 'BRIDGE', '127.0.0.1', String(port), file]);
const statuses = (out: string): number[] => [...out.matchAll(/DIMSE Status\s+: 0x([0-9a-f]{4})/g)].map((m) => parseInt(m[1]!, 16));

/** A TCP connection that sends nothing, from `localAddress` (any 127.0.0.0/8 address works on loopback). */
function idleSocket(port: number, localAddress = '127.0.0.1'): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => {
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      resolve({ socket, closed });
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

let servers: TestScp[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.map((t) => t.stop()));
  servers = [];
});
async function scp(overrides: Parameters<typeof startScp>[0]): Promise<TestScp> {
  const t = await startScp(overrides);
  servers.push(t);
  return t;
}

describe('rejected and finished associations give their slot back (issue 22.2)', () => {
  it('closes the connection right after the A-ASSOCIATE-RJ, not at ARTIM', async () => {
    // ARTIM longer than the test timeout: a connection left to ARTIM would fail the test.
    const t = await scp({ artimTimeoutMs: 600_000 });
    const { client, answer } = await rawAssociate(t.port, associateRq({ calledAeTitle: 'NOT-US' }));
    expect(answer.type).toBe('A-ASSOCIATE-RJ');
    await client.closed;
    expect(client.socket.readableEnded).toBe(true); // the bridge ended it, after the RJ
    await expect.poll(() => t.scp.connections).toEqual({ pending: 0, associated: 0, closing: 0 });
  });

  it('answers every one of 100 callers with an AC or an RJ while the slots are taken', async () => {
    const t = await scp({ maxAssociations: 4, artimTimeoutMs: 600_000 });
    const held: RawClient[] = [];
    const answers: string[] = [];
    // In batches of 10 (under the per-address pending bound), the 4 accepted ones kept open.
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const client = await RawClient.open(t.port);
          sockets.push(client.socket);
          await client.write(encodePdu(associateRq()));
          const pdus = await receivePdus(client, 1);
          const type = pdus[0]?.type ?? 'closed without an answer';
          if (type === 'A-ASSOCIATE-AC') held.push(client);
          return type;
        }),
      );
      answers.push(...results);
    }
    expect(answers.filter((a) => a === 'A-ASSOCIATE-AC')).toHaveLength(4);
    expect(answers.filter((a) => a === 'A-ASSOCIATE-RJ')).toHaveLength(96);
    expect(t.scp.activeAssociations).toBe(4);
  });

  it('frees the slot of a released association whose peer keeps the socket open', async () => {
    const t = await scp({ maxAssociations: 1, artimTimeoutMs: 600_000 });
    const first = await rawAssociate(t.port);
    sockets.push(first.client.socket);
    expect(first.answer.type).toBe('A-ASSOCIATE-AC');
    await first.client.write(encodePdu({ type: 'A-RELEASE-RQ' }));
    expect((await receivePdus(first.client, 2))[1]?.type).toBe('A-RELEASE-RP');
    // The first peer does not close (PS3.8: the requestor should): it lingers in Sta13.
    await expect.poll(() => t.scp.connections).toEqual({ pending: 0, associated: 0, closing: 1 });
    const second = await rawAssociate(t.port);
    sockets.push(second.client.socket);
    expect(second.answer.type).toBe('A-ASSOCIATE-AC');
    expect(first.client.socket.destroyed).toBe(false);
  });
});

describe('connections without an A-ASSOCIATE-RQ have their own pool (issue 21.6)', () => {
  it('lets storescu store while 48 idle sockets from the same address are open', async () => {
    const t = await scp({ maxAssociations: 4, artimTimeoutMs: 600_000, associateRequestTimeoutMs: 600_000 });
    const idle = await Promise.all(Array.from({ length: 48 }, () => idleSocket(t.port)));
    sockets.push(...idle.map((i) => i.socket));
    const r = await storescu(t.port, CT_SMALL);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(statuses(r.stdout + r.stderr)).toEqual([0x0000]);
    expect(t.records).toHaveLength(1);
    // The pending pool stayed within its per-address bound (16): the 32 oldest idle ones were closed.
    await Promise.all(idle.slice(0, 32).map((i) => i.closed));
    expect(t.scp.connections.pending).toBeLessThanOrEqual(16);
  });

  it('lets storescu store while other addresses flood with idle sockets', async () => {
    const t = await scp({ maxAssociations: 4, artimTimeoutMs: 600_000, associateRequestTimeoutMs: 600_000, maxPendingConnections: 32 });
    const flood: Array<{ socket: Socket; closed: Promise<void> }> = [];
    for (let a = 2; a <= 7; a++) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => idleSocket(t.port, `127.0.0.${a}`)));
      flood.push(...batch);
    }
    sockets.push(...flood.map((i) => i.socket));
    await expect.poll(() => t.scp.connections.pending).toBeLessThanOrEqual(32);
    const r = await storescu(t.port, CT_SMALL);
    expect(statuses(r.stdout + r.stderr)).toEqual([0x0000]);
    expect(t.records).toHaveLength(1);
    // 120 flooding sockets, at most 32 pending at any time: the rest were closed by the bridge.
    await expect.poll(() => flood.filter((f) => f.socket.destroyed).length).toBeGreaterThanOrEqual(120 - 32);
  });

  it('closes a connection whose A-ASSOCIATE-RQ does not arrive within the request timeout', async () => {
    const t = await scp({ artimTimeoutMs: 600_000, associateRequestTimeoutMs: 200 });
    const client = await RawClient.open(t.port);
    // Half an A-ASSOCIATE-RQ: the first bytes arrived, the request never completes.
    await client.write(encodePdu(associateRq()).subarray(0, 20));
    await client.closed;
    expect(client.received.length).toBe(0);
  });

  it('keeps the old wait when only ARTIM is set shorter than the default', async () => {
    const t = await scp({ artimTimeoutMs: 200 });
    const client = await RawClient.open(t.port);
    await client.closed;
    expect(t.scp.connections).toEqual({ pending: 0, associated: 0, closing: 0 });
  });
});

describe('evictionsFor', () => {
  const c = (address: string, phase: AdmittedConnection['phase']): AdmittedConnection => ({ address, phase });
  const limits = { maxPending: 4, maxPendingPerAddress: 2, maxClosing: 2 };

  it.each([
    { name: 'room everywhere', open: [c('a', 'pending'), c('b', 'associated')], from: 'a', evicted: [] },
    { name: 'own address full: its oldest', open: [c('a', 'pending'), c('b', 'pending'), c('a', 'pending')], from: 'a', evicted: [0] },
    { name: 'all pending full: the busiest address gives its oldest', open: [c('a', 'pending'), c('b', 'pending'), c('b', 'pending'), c('c', 'pending')], from: 'd', evicted: [1] },
    { name: 'associations never make room', open: [c('a', 'associated'), c('a', 'associated'), c('a', 'associated')], from: 'a', evicted: [] },
    { name: 'closing full: its oldest', open: [c('a', 'closing'), c('b', 'closing'), c('a', 'pending')], from: 'c', evicted: [0] },
  ])('$name', ({ open, from, evicted }) => {
    expect(evictionsFor(open, from, limits).map((e) => open.indexOf(e.connection))).toEqual(evicted);
  });
});
