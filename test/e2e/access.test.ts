/**
 * The HTTP access model (src/http/access.ts) on a running bridge, for every
 * path that returns patient data or changes state (/studies, /studies/{uid},
 * /status, the republish POSTs, /fhir), with and without the token:
 * - loopback without a token: open (the default);
 * - loopback with ADMIN_TOKEN: every such path needs it;
 * - a non-loopback bind (this machine's own address, e.g. 192.0.2.2; 127.0.0.2
 *   would still be loopback: 127.0.0.0/8) with ADMIN_TOKEN, and with only
 *   FHIR_ENDPOINT_BEARER_TOKEN;
 * - a non-loopback bind without a token: the bridge refuses to start (exit 2).
 * /healthz, /readyz and /metrics stay open and carry no patient data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/bridge-process.js';
import { freePort } from '../support/free-port.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { startProcess, type StartedProcess } from '../support/processes.js';
import { run } from '../support/run.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const ADMIN_TOKEN = 'admin-token-for-the-access-test-0001';
const FHIR_TOKEN = 'fhir-token-for-the-access-test-0002';
const PATIENT_ID = 'ACCESS-PID-7731';
const PATIENT_NAME = 'ACCESSCANARY^PAULINE';

/** This machine's first non-internal IPv4 address (what `hostname -I` lists first). */
function machineAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('no non-loopback IPv4 address on this machine: the non-loopback cases cannot run');
}

interface Bridge {
  base: string;
  dicomPort: number;
  process: StartedProcess;
  dataDir: string;
}

async function startBridge(host: string, env: Record<string, string>): Promise<Bridge> {
  const dicomPort = await freePort();
  const httpPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'bridge-access-'));
  const base = `http://${host}:${httpPort}`;
  const process = await startProcess('node', [CLI, 'start'], {
    env: {
      DICOM_HOST: '127.0.0.1',
      DICOM_PORT: String(dicomPort),
      HTTP_HOST: host,
      HTTP_PORT: String(httpPort),
      DATA_DIR: dataDir,
      PUBLISH_DEBOUNCE_MS: '100',
      LOG_LEVEL: 'info',
      ADMIN_TOKEN: '',
      FHIR_ENDPOINT_BEARER_TOKEN: '',
      ...env,
    },
    readyUrl: `${base}/readyz`,
    readyTimeoutMs: 20_000,
  });
  return { base, dicomPort, process, dataDir };
}

async function stop(bridge: Bridge | undefined): Promise<void> {
  if (!bridge) return;
  await bridge.process.stop('SIGTERM', 10_000);
  rmSync(bridge.dataDir, { recursive: true, force: true });
}

async function request(bridge: Bridge, method: string, path: string, token?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${bridge.base}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

let study: GeneratedStudy;
beforeAll(async () => {
  study = await generateStudy({ series: 1, instances: 2, patientId: PATIENT_ID, patientName: PATIENT_NAME, seed: 1501 });
});
afterAll(async () => {
  await removeStudy(study.dir);
});

/** Sends the study and waits until it is published into the store (asking with `token`). */
async function sendStudy(bridge: Bridge, token?: string): Promise<void> {
  const sent = await run('storescu', ['-aet', 'MODALITY', '-aec', 'FHIRBRIDGE', '127.0.0.1', String(bridge.dicomPort), ...study.files]);
  expect(sent.code, sent.stderr).toBe(0);
  await eventually(async () => {
    const r = await request(bridge, 'GET', `/studies/${study.studyInstanceUid}`, token);
    return r.status === 200 && JSON.parse(r.text).publishState === 'published' ? true : undefined;
  }, 30_000, 'study published');
}

/** Every path with patient data or a state change: method, path, status when let in. */
function protectedPaths(): Array<[string, string, number]> {
  const uid = study.studyInstanceUid;
  return [
    ['GET', '/studies', 200],
    ['GET', '/studies?state=published', 200],
    ['GET', `/studies/${uid}`, 200],
    ['GET', '/status', 200],
    ['POST', `/studies/${uid}/republish`, 202],
    ['POST', '/studies/republish?state=failed', 202],
    ['GET', `/fhir/ImagingStudy?patient.identifier=${encodeURIComponent(PATIENT_ID)}`, 200],
    ['GET', `/fhir/ImagingStudy/${uid}`, 200],
    ['GET', '/fhir/metadata', 200],
  ];
}

async function expectOpenPathsWithoutPatientData(bridge: Bridge): Promise<void> {
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const r = await request(bridge, 'GET', path);
    expect(r.status, path).toBe(200);
    for (const value of [PATIENT_ID, 'ACCESSCANARY', study.studyInstanceUid]) expect(r.text, path).not.toContain(value);
  }
}

async function expectProtected(bridge: Bridge, good: string[], bad: Array<string | undefined>): Promise<void> {
  for (const [method, path, expected] of protectedPaths()) {
    for (const token of bad) {
      const r = await request(bridge, method, path, token);
      expect(r.status, `${method} ${path} with ${token ?? 'no token'}`).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(r.text).not.toContain(PATIENT_ID);
      expect(r.text).not.toContain('ACCESSCANARY');
    }
    for (const token of good) {
      const r = await request(bridge, method, path, token);
      expect(r.status, `${method} ${path} with the token`).toBe(expected);
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
  }
}

describe('loopback without a token (the default)', () => {
  let bridge: Bridge | undefined;
  afterAll(() => stop(bridge));

  it('answers every path without a token', async () => {
    bridge = await startBridge('127.0.0.1', {});
    await sendStudy(bridge);
    for (const [method, path, expected] of protectedPaths()) expect((await request(bridge, method, path)).status, `${method} ${path}`).toBe(expected);
    const one = JSON.parse((await request(bridge, 'GET', `/studies/${study.studyInstanceUid}`)).text);
    expect(JSON.stringify(one.lastResource)).toContain(PATIENT_ID);
    await expectOpenPathsWithoutPatientData(bridge);
    expect(bridge.process.output()).toContain('"httpAccess":"open on loopback"');
  });
});

describe('loopback with ADMIN_TOKEN', () => {
  let bridge: Bridge | undefined;
  afterAll(() => stop(bridge));

  it('needs the token on every path with patient data or a state change; the CLI sends it', async () => {
    bridge = await startBridge('127.0.0.1', { ADMIN_TOKEN });
    await sendStudy(bridge, ADMIN_TOKEN);
    await expectProtected(bridge, [ADMIN_TOKEN], [undefined, 'wrong-token-of-the-same-size-00001', `${ADMIN_TOKEN}x`]);
    await expectOpenPathsWithoutPatientData(bridge);

    const url = bridge.base;
    const withToken = await run('node', [CLI, 'status', '--url', url], { env: { ADMIN_TOKEN } });
    expect(withToken.code, withToken.stderr).toBe(0);
    expect(withToken.stdout).toMatch(/studies: +\d+ pending, 1 published/);
    const without = await run('node', [CLI, 'status', '--url', url], { env: { ADMIN_TOKEN: '' } });
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/401: the bridge requires a token: set ADMIN_TOKEN/);
    const republish = await run('node', [CLI, 'republish', '--url', url, study.studyInstanceUid], { env: { ADMIN_TOKEN } });
    expect(republish.code, republish.stderr).toBe(0);
    const refused = await run('node', [CLI, 'republish', '--url', url, study.studyInstanceUid], { env: { ADMIN_TOKEN: '' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/HTTP 401: the bridge requires a token/);

    const metadata = JSON.parse((await request(bridge, 'GET', '/fhir/metadata', ADMIN_TOKEN)).text);
    expect(JSON.stringify(metadata.rest[0].security)).toMatch(/Bearer|OAuth|bearer/);
  });
});

describe('a non-loopback bind', () => {
  const host = machineAddress();
  let bridge: Bridge | undefined;
  afterAll(() => stop(bridge));

  it(`with ADMIN_TOKEN and FHIR_ENDPOINT_BEARER_TOKEN on ${host}: the admin token everywhere, the FHIR token on /fhir only`, async () => {
    bridge = await startBridge(host, { ADMIN_TOKEN, FHIR_ENDPOINT_BEARER_TOKEN: FHIR_TOKEN });
    await sendStudy(bridge, ADMIN_TOKEN);
    await expectProtected(bridge, [ADMIN_TOKEN], [undefined, 'Basic-not-a-token-0000000000000000']);
    await expectOpenPathsWithoutPatientData(bridge);
    for (const [method, path, expected] of protectedPaths()) {
      const r = await request(bridge, method, path, FHIR_TOKEN);
      expect(r.status, `${method} ${path} with the FHIR token`).toBe(path.startsWith('/fhir') ? expected : 401);
    }
    await stop(bridge);
    bridge = undefined;
  });

  it(`with only FHIR_ENDPOINT_BEARER_TOKEN on ${host}: that token protects every path`, async () => {
    bridge = await startBridge(host, { FHIR_ENDPOINT_BEARER_TOKEN: FHIR_TOKEN });
    await sendStudy(bridge, FHIR_TOKEN);
    await expectProtected(bridge, [FHIR_TOKEN], [undefined, ADMIN_TOKEN]);
    await expectOpenPathsWithoutPatientData(bridge);
  });

  it.each([host, '0.0.0.0'])('without a token on %s: refuses to start, exit 2, naming HTTP_HOST and ADMIN_TOKEN', async (bind) => {
    const result = await run('node', [CLI, 'start'], {
      env: { HTTP_HOST: bind, HTTP_PORT: String(await freePort()), DICOM_PORT: String(await freePort()), ADMIN_TOKEN: '', FHIR_ENDPOINT_BEARER_TOKEN: '', DATA_DIR: join(tmpdir(), 'never-created') },
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`http.host (HTTP_HOST): '${bind}' is not loopback, and no token is set`);
    expect(result.stderr).toContain('ADMIN_TOKEN');
    expect(result.stdout).not.toContain('started');
  });
});
