import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/run.js';
import { encodePdu } from '../../src/dimse/pdu.js';
import { associateRq, rawAssociate, startScp, type TestScp } from './helpers.js';

const echoscu = (port: number, ...args: string[]) => run('echoscu', ['-v', ...args, '127.0.0.1', String(port)]);

describe('C-ECHO and association rejection, against echoscu', () => {
  let t: TestScp;
  const rejected: Array<{ reason: string; callingAeTitle: string; calledAeTitle: string }> = [];
  const closed: Array<{ endedBy: string; callingAeTitle: string }> = [];
  beforeAll(async () => {
    t = await startScp({ isCallerAllowed: (calling) => calling !== 'INTRUDER' });
    t.scp.on('associationRejected', (e) => rejected.push(e));
    t.scp.on('associationClosed', (e) => closed.push(e));
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers C-ECHO-RQ with success and is released by the peer', async () => {
    const r = await echoscu(t.port, '-aet', 'SCU', '-aec', 'BRIDGE');
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain('Received Echo Response (Success)');
    await expect.poll(() => closed.find((c) => c.callingAeTitle === 'SCU')?.endedBy).toBe('release');
  });

  it('matches the called AE title after trimming spaces', async () => {
    const r = await echoscu(t.port, '-aet', 'SCU', '-aec', ' BRIDGE ');
    expect(r.code).toBe(0);
  });

  it('rejects an unknown called AE title: permanent, service user, reason 7', async () => {
    const r = await echoscu(t.port, '-aet', 'SCU', '-aec', 'NOPE');
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('Result: Rejected Permanent, Source: Service User');
    expect(out).toContain('Reason: Called AE Title Not Recognized');
    expect(rejected).toContainEqual(expect.objectContaining({ reason: 'called-ae', calledAeTitle: 'NOPE' }));
  });

  it('rejects a calling AE title outside the allowlist: permanent, service user, reason 3', async () => {
    const r = await echoscu(t.port, '-aet', 'INTRUDER', '-aec', 'BRIDGE');
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('Result: Rejected Permanent, Source: Service User');
    expect(out).toContain('Reason: Calling AE Title Not Recognized');
    expect(rejected).toContainEqual(expect.objectContaining({ reason: 'calling-ae', callingAeTitle: 'INTRUDER' }));
  });

  it('rejects an unsupported application context: permanent, service user, reason 2', async () => {
    const { client, answer } = await rawAssociate(t.port, associateRq({ applicationContextName: '1.2.3.4.5' }));
    expect(answer).toEqual({ type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 2 });
    expect(rejected).toContainEqual(expect.objectContaining({ reason: 'application-context' }));
    client.destroy();
  });

  it('rejects an unsupported protocol version: permanent, service provider (ACSE), reason 2', async () => {
    const { client, answer } = await rawAssociate(t.port, associateRq({ protocolVersion: 2 }));
    expect(answer).toEqual({ type: 'A-ASSOCIATE-RJ', result: 1, source: 2, reason: 2 });
    expect(rejected).toContainEqual(expect.objectContaining({ reason: 'protocol-version', callingAeTitle: 'RAW' }));
    client.destroy();
  });
});

describe('maximum concurrent associations', () => {
  let t: TestScp;
  beforeAll(async () => {
    t = await startScp({ maxAssociations: 1 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('rejects one association too many: transient, service provider (presentation), temporary congestion', async () => {
    const holder = await rawAssociate(t.port);
    expect(holder.answer.type).toBe('A-ASSOCIATE-AC');
    expect(t.scp.activeAssociations).toBe(1);
    const r = await echoscu(t.port, '-aet', 'SCU', '-aec', 'BRIDGE');
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('Result: Rejected Transient, Source: Service Provider (Presentation Related)');
    expect(out).toContain('Reason: Temporary Congestion');
    await holder.client.write(encodePdu({ type: 'A-RELEASE-RQ' }));
    await holder.client.closed;
    await expect.poll(() => t.scp.activeAssociations).toBe(0);
    const again = await echoscu(t.port, '-aet', 'SCU', '-aec', 'BRIDGE');
    expect(again.code).toBe(0);
  });
});
