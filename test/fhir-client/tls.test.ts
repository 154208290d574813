/**
 * fhir.tls: a private CA and mutual TLS through undici's Agent. Certificates
 * are made with openssl at test time.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFhirClient } from '../../src/fhir-client/create-fhir-client.js';
import { FhirNetworkError } from '../../src/fhir-client/fhir-client.js';
import { silentLogger } from '../pipeline/helpers.js';
import { run } from '../support/run.js';

let dir: string;
let server: Server;
let base: string;
const seen: { authorized: boolean; subject?: string }[] = [];

async function openssl(...args: string[]): Promise<void> {
  const r = await run('openssl', args, { cwd: dir });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fhir-tls-'));
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Test CA');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('TLS to the FHIR server', () => {
  it('trusts the configured CA and presents the client certificate (mutual TLS)', async () => {
    server = createServer(
      {
        key: await readFile(join(dir, 'server.key')),
        cert: await readFile(join(dir, 'server.crt')),
        ca: await readFile(join(dir, 'ca.crt')),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const socket = req.socket as import('node:tls').TLSSocket;
        seen.push({ authorized: socket.authorized, subject: String(socket.getPeerCertificate()?.subject?.CN) });
        res.writeHead(200, { 'content-type': 'application/fhir+json' });
        res.end(JSON.stringify({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' }));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;

    const withoutCa = createFhirClient({ baseUrl: base, requestTimeoutMs: 5000 }, silentLogger)!;
    expect(await withoutCa.metadata().catch((e: unknown) => e)).toBeInstanceOf(FhirNetworkError);

    const client = createFhirClient(
      {
        baseUrl: base,
        requestTimeoutMs: 5000,
        tls: { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key'), rejectUnauthorized: true },
      },
      silentLogger,
    )!;
    const response = await client.metadata();
    expect(response.resource).toMatchObject({ resourceType: 'CapabilityStatement' });
    expect(seen.at(-1)).toEqual({ authorized: true, subject: 'client' });
  });
});
