import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssociationError, echo } from '../../src/dimse/echo-scu.js';
import { decodeCommand, encodeCommand, type DimseCommand } from '../../src/dimse/dimse-command.js';
import { emptyUserInformation } from '../../src/dimse/pdu-items.js';
import { encodePdu, messagePdvs, type AAssociateRq, type Pdu, type Pdv } from '../../src/dimse/pdu.js';
import { freePort } from '../support/free-port.js';
import { startProcess, type StartedProcess } from '../support/processes.js';
import { run } from '../support/run.js';
import { splitPdus, startScp, type TestScp } from './helpers.js';
import { makeTestPki, type TestPki } from './tls-pki.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const cli = (...args: string[]) => run(process.execPath, [CLI, 'echo', ...args], { timeoutMs: 30_000 });

/** The AssociationError an echo fails with. */
async function echoError(options: Parameters<typeof echo>[0]): Promise<AssociationError> {
  try {
    await echo(options);
  } catch (err) {
    if (err instanceof AssociationError) return err;
    throw err;
  }
  throw new Error('echo succeeded');
}

/** Starts a DCMTK tool that listens, and waits until a C-ECHO gets through. */
async function startDcmtkScp(args: string[], probe: (port: number) => Promise<unknown>): Promise<{ proc: StartedProcess; port: number }> {
  const port = await freePort();
  const proc = await startProcess('storescp', [...args, String(port)]);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await probe(port);
      return { proc, port };
    } catch (err) {
      if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`storescp not answering: ${String(err)}\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A TCP server that runs `onConnection` for each client (silent SCPs, aborting SCPs). */
async function fakeScp(onConnection: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(() => pki?.remove());

describe('echo() against DCMTK storescp', () => {
  let plain: { proc: StartedProcess; port: number };
  let tls: { proc: StartedProcess; port: number };
  beforeAll(async () => {
    plain = await startDcmtkScp(['-aet', 'REF'], (port) => echo({ host: '127.0.0.1', port, callingAeTitle: 'PROBE', calledAeTitle: 'REF', timeoutMs: 2_000 }));
    const tlsOptions = () => ({ ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
    tls = await startDcmtkScp(['-aet', 'REF', '+tls', pki.serverKey, pki.serverCert, '+cf', pki.caCert], (port) =>
      echo({ host: '127.0.0.1', port, callingAeTitle: 'PROBE', calledAeTitle: 'REF', tls: tlsOptions(), timeoutMs: 2_000 }),
    );
  });
  afterAll(async () => {
    await plain?.proc.stop();
    await tls?.proc.stop();
  });

  it('C-ECHO succeeds with status 0000 over TCP', async () => {
    const result = await echo({ host: '127.0.0.1', port: plain.port, callingAeTitle: 'ECHOSCU', calledAeTitle: 'REF', timeoutMs: 10_000 });
    expect(result.status).toBe(0);
    expect(result.rttMs).toBeGreaterThanOrEqual(0);
  });

  it('C-ECHO succeeds over TLS (BCP 195), with the client certificate storescp +tls requires', async () => {
    const result = await echo({
      host: '127.0.0.1',
      port: tls.port,
      callingAeTitle: 'ECHOSCU',
      calledAeTitle: 'REF',
      tls: { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
      timeoutMs: 10_000,
    });
    expect(result.status).toBe(0);
  });

  it('over TLS, a server certificate from an untrusted CA fails the handshake', async () => {
    const err = await echoError({
      host: '127.0.0.1',
      port: tls.port,
      callingAeTitle: 'ECHOSCU',
      calledAeTitle: 'REF',
      tls: { ca: readFileSync(pki.rogueCaCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
      timeoutMs: 10_000,
    });
    expect(err.code).toBe('transport');
    expect(err.message).toMatch(/certificate/i);
  });
});

describe('echo() against our StorageScp', () => {
  let t: TestScp;
  const accepted: Array<{ callingAeTitle: string }> = [];
  const closed: Array<{ callingAeTitle: string; endedBy: string }> = [];
  beforeAll(async () => {
    t = await startScp({
      isCallerAllowed: (calling) => calling !== 'INTRUDER',
      tls: { port: 0, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caCert, requireClientCert: true },
    });
    t.scp.on('associationAccepted', (e) => accepted.push(e));
    t.scp.on('associationClosed', (e) => closed.push(e));
  });
  afterAll(async () => {
    await t.stop();
  });

  it('succeeds and releases the association', async () => {
    const result = await echo({ host: '127.0.0.1', port: t.port, callingAeTitle: 'ECHOSCU', calledAeTitle: 'BRIDGE', timeoutMs: 10_000 });
    expect(result.status).toBe(0);
    await expect.poll(() => closed.find((c) => c.callingAeTitle === 'ECHOSCU')?.endedBy).toBe('release');
  });

  it('succeeds over TLS with a client certificate (requireClientCert)', async () => {
    const result = await echo({
      host: '127.0.0.1',
      port: t.tlsPort!,
      callingAeTitle: 'TLSSCU',
      calledAeTitle: 'BRIDGE',
      tls: { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
      timeoutMs: 10_000,
    });
    expect(result.status).toBe(0);
    expect(accepted).toContainEqual(expect.objectContaining({ callingAeTitle: 'TLSSCU' }));
  });

  it('over TLS without a client certificate: refused by the server, an error, no association', async () => {
    const err = await echoError({
      host: '127.0.0.1',
      port: t.tlsPort!,
      callingAeTitle: 'NOCERT',
      calledAeTitle: 'BRIDGE',
      tls: { ca: readFileSync(pki.caCert) },
      timeoutMs: 10_000,
    });
    expect(err.code).toBe('transport');
    expect(err.message).toMatch(/certificate|closed|alert|handshake/i);
    expect(accepted).not.toContainEqual(expect.objectContaining({ callingAeTitle: 'NOCERT' }));
  });

  it('a wrong called AE title: rejected, with the PS3.8 result, source and reason', async () => {
    const err = await echoError({ host: '127.0.0.1', port: t.port, callingAeTitle: 'ECHOSCU', calledAeTitle: 'WRONG', timeoutMs: 10_000 });
    expect(err.code).toBe('rejected');
    expect(err.rejection).toEqual({ type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 7 });
    expect(err.message).toBe(
      `association rejected by WRONG@127.0.0.1:${t.port}: Rejected Permanent, Source: Service User, Reason: Called AE Title Not Recognized`,
    );
  });

  it('a calling AE title outside the allowlist: rejected, reason 3', async () => {
    const err = await echoError({ host: '127.0.0.1', port: t.port, callingAeTitle: 'INTRUDER', calledAeTitle: 'BRIDGE', timeoutMs: 10_000 });
    expect(err.code).toBe('rejected');
    expect(err.message).toContain('Reason: Calling AE Title Not Recognized');
  });
});

describe('echo() failures without an SCP', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('connection refused', async () => {
    const port = await freePort();
    const err = await echoError({ host: '127.0.0.1', port, callingAeTitle: 'ECHOSCU', calledAeTitle: 'ANY', timeoutMs: 5_000 });
    expect(err.code).toBe('refused');
    expect(err.message).toBe(`connection refused by 127.0.0.1:${port}`);
  });

  it('an SCP that never answers the A-ASSOCIATE-RQ: ACSE timeout, the connection is closed', async () => {
    let peerClosed: Promise<void> | undefined;
    const fake = await fakeScp((socket) => {
      socket.resume();
      peerClosed = new Promise((r) => socket.on('close', () => r()));
    });
    servers.push(fake);
    const err = await echoError({ host: '127.0.0.1', port: fake.port, callingAeTitle: 'ECHOSCU', calledAeTitle: 'SILENT', timeoutMs: 300 });
    expect(err.code).toBe('timeout');
    expect(err.message).toBe(`no A-ASSOCIATE-AC or -RJ from SILENT@127.0.0.1:${fake.port} within 300 ms`);
    await peerClosed;
  });

  it('an SCP that aborts: the abort source and reason are in the error', async () => {
    const fake = await fakeScp((socket) => {
      socket.once('data', () => socket.end(encodePdu({ type: 'A-ABORT', source: 2, reason: 2 })));
    });
    servers.push(fake);
    const err = await echoError({ host: '127.0.0.1', port: fake.port, callingAeTitle: 'ECHOSCU', calledAeTitle: 'ABORTER', timeoutMs: 5_000 });
    expect(err.code).toBe('aborted');
    expect(err.abort).toEqual({ source: 2, reason: 2 });
    expect(err.message).toBe(`association aborted by ABORTER@127.0.0.1:${fake.port}: Source: Service Provider, Reason: Unexpected PDU`);
  });
});

describe('dicom-fhir-bridge echo (CLI)', () => {
  let t: TestScp;
  beforeAll(async () => {
    t = await startScp({
      isCallerAllowed: (calling) => calling !== 'INTRUDER',
      tls: { port: 0, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caCert, requireClientCert: true },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('exit 0 and an echoscu-like line on success', async () => {
    const r = await cli('127.0.0.1', String(t.port), '--aet', 'CLI', '--aec', 'BRIDGE');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^C-ECHO to BRIDGE@127\\.0\\.0\\.1:${t.port}: Success \\(0000H\\) in \\d+ ms\\n$`));
  });

  it('accepts DCMTK spellings -aet / -aec, and TLS with --ca --cert --key', async () => {
    const r = await cli('127.0.0.1', String(t.tlsPort), '-aet', 'CLI', '-aec', 'BRIDGE', '--tls', '--ca', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Success (0000H)');
  });

  it('exit 1 with the reason: association rejected (calling AE not recognized), connection refused, timeout', async () => {
    const rejected = await cli('127.0.0.1', String(t.port), '--aet', 'INTRUDER', '--aec', 'BRIDGE');
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toBe(
      `C-ECHO to BRIDGE@127.0.0.1:${t.port} failed: association rejected by BRIDGE@127.0.0.1:${t.port}: Rejected Permanent, Source: Service User, Reason: Calling AE Title Not Recognized\n`,
    );
    const port = await freePort();
    const refused = await cli('127.0.0.1', String(port), '--aec', 'BRIDGE');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`failed: connection refused by 127.0.0.1:${port}`);
    const silent = await fakeScp((socket) => socket.resume());
    try {
      const timeout = await cli('127.0.0.1', String(silent.port), '--aec', 'BRIDGE', '--timeout', '300');
      expect(timeout.code).toBe(1);
      expect(timeout.stderr).toContain('within 300 ms');
    } finally {
      await silent.close();
    }
  });

  it('exit 1 when the TLS server wants a client certificate and none is given', async () => {
    const r = await cli('127.0.0.1', String(t.tlsPort), '--aec', 'BRIDGE', '--tls', '--ca', pki.caCert);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^C-ECHO to BRIDGE@127\.0\.0\.1:\d+ failed: /);
  });

  it('exit 64 on usage errors', async () => {
    const cases = [
      ['127.0.0.1'],
      ['127.0.0.1', 'port'],
      ['127.0.0.1', '104', '--ca', pki.caCert],
      ['127.0.0.1', '104', '--tls', '--cert', pki.clientCert],
      ['127.0.0.1', '104', '--timeout', 'soon'],
      ['127.0.0.1', '104', '--aet', 'A-TITLE-LONGER-THAN-16'],
      ['127.0.0.1', '104', '--bogus'],
    ];
    const results = await Promise.all(cases.map((args) => cli(...args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]!.join(' ')).toBe(64);
      expect(r.stderr.length, cases[i]!.join(' ')).toBeGreaterThan(0);
    });
  });

  it('--help documents every option and the exit codes', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const option of ['--aet', '--aec', '--timeout', '--tls', '--ca', '--cert', '--key', '--servername', '--tls13', 'exit codes', '64'])
      expect(r.stdout).toContain(option);
  });
});

/**
 * A peer that accepts the Verification context (id 1) and answers the
 * C-ECHO-RQ with the PDVs `answer` makes of it; A-RELEASE-RQ gets its RP.
 * For DIMSE framing our StorageScp never produces.
 */
async function framingScp(answer: (rq: DimseCommand) => Pdv[]): Promise<{ port: number; close(): Promise<void> }> {
  return fakeScp((socket) => {
    let received = Buffer.alloc(0);
    let command = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let whole = 0; // bytes of the complete PDUs received so far
      while (received.length - whole >= 6 && received.length - whole >= 6 + received.readUInt32BE(whole + 2)) whole += 6 + received.readUInt32BE(whole + 2);
      const pdus = splitPdus(received.subarray(0, whole));
      received = received.subarray(whole);
      for (const pdu of pdus) {
        if (pdu.type === 'A-ASSOCIATE-RQ') socket.write(encodePdu(acceptVerification(pdu)));
        else if (pdu.type === 'A-RELEASE-RQ') socket.end(encodePdu({ type: 'A-RELEASE-RP' }));
        else if (pdu.type === 'P-DATA-TF')
          for (const pdv of pdu.pdvs) {
            command = Buffer.concat([command, pdv.data]);
            if (!pdv.isLast) continue;
            for (const out of answer(decodeCommand(command))) socket.write(encodePdu({ type: 'P-DATA-TF', pdvs: [out] }));
            command = Buffer.alloc(0);
          }
      }
    });
  });
}

function acceptVerification(rq: AAssociateRq): Pdu {
  return {
    type: 'A-ASSOCIATE-AC', protocolVersion: 1, calledAeTitle: rq.calledAeTitle, callingAeTitle: rq.callingAeTitle,
    applicationContextName: rq.applicationContextName,
    presentationContexts: [{ id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' }],
    userInformation: { ...emptyUserInformation(), maximumLength: 16384, implementationClassUid: '1.2.3' },
  };
}

const echoRsp = (rq: DimseCommand, commandDataSetType = 0x0101): DimseCommand => ({
  commandField: 0x8030, messageIdBeingRespondedTo: rq.messageId!, affectedSopClassUid: rq.affectedSopClassUid!, commandDataSetType, status: 0,
});

describe('echo() and the DIMSE framing of the response (PS3.8 Annex E)', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  const echoVia = async (answer: (rq: DimseCommand) => Pdv[]) => {
    const fake = await framingScp(answer);
    servers.push(fake);
    return { port: fake.port, options: { host: '127.0.0.1', port: fake.port, callingAeTitle: 'ECHOSCU', calledAeTitle: 'FRAMING', timeoutMs: 5_000 } };
  };

  it('takes a response whose command set comes in three fragments and that carries a data set', async () => {
    const { options } = await echoVia((rq) => {
      const command = encodeCommand(echoRsp(rq, 0x0000));
      const third = Math.ceil(command.length / 3);
      return [
        ...messagePdvs(1, true, command, 6 + third),
        ...messagePdvs(1, false, Buffer.alloc(300, 0x20), 6 + 200),
      ];
    });
    expect(await echo(options)).toMatchObject({ status: 0 });
  });

  it('a data fragment before the response command: a protocol error, the association aborted', async () => {
    const { port, options } = await echoVia((rq) => [...messagePdvs(1, false, Buffer.alloc(8), 0), ...messagePdvs(1, true, encodeCommand(echoRsp(rq)), 0)]);
    const err = await echoError(options);
    expect(err.code).toBe('protocol');
    expect(err.message).toBe(`protocol error from FRAMING@127.0.0.1:${port}: data fragment without a command expecting one`);
  });

  it('a response on a presentation context that was not accepted: a protocol error', async () => {
    const { options } = await echoVia((rq) => messagePdvs(3, true, encodeCommand(echoRsp(rq)), 0));
    const err = await echoError(options);
    expect(err.code).toBe('protocol');
    expect(err.message).toMatch(/presentation context 3, which is not accepted/);
  });
});
