import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/dimse/pdu.js';
import { run } from '../support/run.js';
import { CT_SMALL, MR_SMALL, associateRq, rawAssociate, startScp, type TestScp } from './helpers.js';
import { makeTestPki, type TestPki } from './tls-pki.js';

/** A pino logger whose JSON lines are kept, to check what was (and was not) logged. */
function capturingLogger(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const out: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void out.push(line) });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), text: () => out.join('') };
}

const tlsArgs = (pki: TestPki, key = pki.clientKey, cert = pki.clientCert) => ['+tls', key, cert, '+cf', pki.caCert];
const echoscu = (port: number, args: string[], aet = 'SCU') => run('echoscu', ['-aet', aet, '-aec', 'BRIDGE', ...args, '127.0.0.1', String(port)], { timeoutMs: 30_000 });
const storescu = (port: number, args: string[], files: string[]) =>
  run('storescu', ['-aet', 'SCU', '-aec', 'BRIDGE', ...args, '127.0.0.1', String(port), ...files], { timeoutMs: 30_000 });

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(() => pki?.remove());

describe('DICOM TLS listener (BCP 195) beside the plain one', () => {
  let t: TestScp;
  const log = capturingLogger();
  beforeAll(async () => {
    t = await startScp({
      logger: log.logger,
      tls: { port: 0, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caCert, requireClientCert: false },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('listens on both ports and logs the TLS one', () => {
    expect(t.tlsPort).toBeGreaterThan(0);
    expect(t.port).toBeGreaterThan(0);
    expect(t.tlsPort).not.toBe(t.port);
    expect(t.scp.listening).toBe(true);
    expect(log.lines()).toContainEqual(expect.objectContaining({ msg: 'DICOM TLS SCP listening', port: t.tlsPort, minVersion: 'TLSv1.2' }));
  });

  it('answers echoscu +tls with a client certificate, verified against the CA', async () => {
    const r = await echoscu(t.tlsPort!, tlsArgs(pki));
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('answers echoscu with the BCP 195 profile (+px) and anonymous TLS (+tla) when no client certificate is required', async () => {
    const px = await echoscu(t.tlsPort!, ['+px', ...tlsArgs(pki)]);
    expect(px.code, px.stdout + px.stderr).toBe(0);
    const anonymous = await echoscu(t.tlsPort!, ['+tla', '+cf', pki.caCert]);
    expect(anonymous.code, anonymous.stdout + anonymous.stderr).toBe(0);
  });

  it('receives instances from storescu +tls and hands their records to the handler; TLS connections are logged as such', async () => {
    const before = t.records.length;
    const r = await storescu(t.tlsPort!, tlsArgs(pki), [CT_SMALL, MR_SMALL]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(t.records.length - before).toBe(2);
    const [ct, mr] = t.records.slice(before);
    expect(ct!.receipt).toMatchObject({ callingAeTitle: 'SCU', calledAeTitle: 'BRIDGE', peerAddress: '127.0.0.1' });
    expect(ct!.instance.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(mr!.instance.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.4');
    await expect
      .poll(() => log.lines().filter((l) => l.msg === 'association ended' && l.tls === true && l.instances === 2).length)
      .toBe(1);
    // No client certificate is asked for without requireClientCert: none is named.
    expect(log.lines().find((l) => l.msg === 'association ended' && l.tls === true && l.instances === 2)).not.toHaveProperty('peerCert');
    // Decrypted TLS records come as 'data' events, never through the reused read buffer.
    const tlsAttached = log.lines().filter((l) => l.msg === 'transport attached' && l.tls === true);
    expect(tlsAttached.length).toBeGreaterThan(0);
    expect(tlsAttached.every((l) => l.reusedReadBuffer === false)).toBe(true);
  });

  it('refuses a client that does not trust the server certificate (echoscu without the CA)', async () => {
    const r = await echoscu(t.tlsPort!, ['+tls', pki.clientKey, pki.clientCert, '+cf', pki.rogueCaCert]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/TLS|certificate|handshake/i);
  });

  it('still serves plain TCP beside TLS', async () => {
    const r = await echoscu(t.port, []);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const before = t.records.length;
    const s = await storescu(t.port, [], [CT_SMALL]);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(t.records.length - before).toBe(1);
    // Plain TCP reads into the one reused buffer (src/dimse/transport-reader.ts).
    const plain = log.lines().filter((l) => l.msg === 'transport attached' && l.tls === undefined);
    expect(plain.length).toBeGreaterThanOrEqual(2);
    expect(plain.every((l) => l.reusedReadBuffer === true)).toBe(true);
  });

  it('a handshake failure (plain DICOM sent to the TLS port) is a warn line and that connection closes; the listener keeps serving', async () => {
    const socket = connect({ host: '127.0.0.1', port: t.tlsPort! });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(encodePdu(associateRq()));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await expect.poll(() => log.lines().filter((l) => l.msg === 'DICOM TLS handshake failed').length).toBeGreaterThan(0);
    const warn = log.lines().find((l) => l.msg === 'DICOM TLS handshake failed')!;
    expect(warn.level).toBe(40);
    expect(String(warn.peer)).toMatch(/^(::ffff:)?127\.0\.0\.1:\d+$/);
    const again = await echoscu(t.tlsPort!, tlsArgs(pki));
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('never logs the contents of the key (or certificate) files', () => {
    const text = log.text();
    const keyBody = readFileSync(pki.serverKey, 'utf8').split('\n')[1]!;
    const certBody = readFileSync(pki.serverCert, 'utf8').split('\n')[1]!;
    expect(keyBody.length).toBeGreaterThan(40);
    expect(text).not.toContain(keyBody);
    expect(text).not.toContain(certBody);
    expect(text).not.toContain('PRIVATE KEY');
  });
});

describe('DICOM TLS with requireClientCert', () => {
  let t: TestScp;
  const log = capturingLogger();
  beforeAll(async () => {
    t = await startScp({
      logger: log.logger,
      tls: { port: 0, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caCert, requireClientCert: true },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('accepts a client certificate issued by the CA', async () => {
    const before = t.records.length;
    const r = await storescu(t.tlsPort!, tlsArgs(pki), [CT_SMALL]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(t.records.length - before).toBe(1);
    await expect.poll(() => log.lines().find((l) => l.msg === 'association ended')).toMatchObject({ tls: true, peerCert: 'MODALITY', instances: 1 });
  });

  it('refuses a client without a certificate (anonymous TLS): no association, a warn line', async () => {
    const before = t.records.length;
    const warnings = log.lines().filter((l) => l.msg === 'DICOM TLS handshake failed').length;
    const r = await storescu(t.tlsPort!, ['+tla', '+cf', pki.caCert], [CT_SMALL]);
    expect(r.code).not.toBe(0);
    expect(t.records.length).toBe(before);
    await expect.poll(() => log.lines().filter((l) => l.msg === 'DICOM TLS handshake failed').length).toBeGreaterThan(warnings);
  });

  it('refuses a client certificate from an untrusted CA', async () => {
    const before = t.records.length;
    const warnings = log.lines().filter((l) => l.msg === 'DICOM TLS handshake failed').length;
    const r = await storescu(t.tlsPort!, tlsArgs(pki, pki.rogueClientKey, pki.rogueClientCert), [CT_SMALL]);
    expect(r.code).not.toBe(0);
    expect(t.records.length).toBe(before);
    await expect.poll(() => log.lines().filter((l) => l.msg === 'DICOM TLS handshake failed').length).toBeGreaterThan(warnings);
    const accepted = log.lines().filter((l) => l.msg === 'association ended').length;
    expect(accepted).toBe(1); // only the trusted client's association
  });

  it('keeps serving after refused handshakes; plain TCP too', async () => {
    expect((await echoscu(t.tlsPort!, tlsArgs(pki))).code).toBe(0);
    expect((await echoscu(t.port, [])).code).toBe(0);
  });
});

describe('one StorageScp, two listeners, one association limit', () => {
  let t: TestScp;
  beforeAll(async () => {
    t = await startScp({
      maxAssociations: 1,
      tls: { port: 0, certFile: pki.serverCert, keyFile: pki.serverKey, requireClientCert: false },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('an association on the plain port makes the TLS port answer temporary congestion', async () => {
    const holder = await rawAssociate(t.port);
    expect(holder.answer.type).toBe('A-ASSOCIATE-AC');
    const r = await echoscu(t.tlsPort!, tlsArgs(pki));
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('Reason: Temporary Congestion');
    await holder.client.write(encodePdu({ type: 'A-RELEASE-RQ' }));
    await holder.client.receive(holder.client.received.length + 10); // A-RELEASE-RP
    holder.client.destroy();
    await expect.poll(() => t.scp.activeAssociations).toBe(0);
    expect((await echoscu(t.tlsPort!, tlsArgs(pki))).code).toBe(0);
  });
});

describe('TLS only (plain: false)', () => {
  let t: TestScp;
  beforeAll(async () => {
    t = await startScp({ plain: false, tls: { port: 0, certFile: pki.serverCert, keyFile: pki.serverKey, requireClientCert: false } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('opens no plain listener and serves TLS', async () => {
    expect(Number.isNaN(t.port)).toBe(true);
    expect(t.scp.listening).toBe(true);
    const r = await echoscu(t.tlsPort!, tlsArgs(pki));
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('listen() rejects, naming the file, when the key file cannot be read', async () => {
    await expect(startScp({ tls: { port: 0, certFile: pki.serverCert, keyFile: `${pki.dir}/missing.key`, requireClientCert: false } })).rejects.toThrow(
      /keyFile .*missing\.key: cannot be read \(ENOENT\)/,
    );
  });
});
