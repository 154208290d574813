import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../dimse/tls-pki.js';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { freePort } from '../support/free-port.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

describe('DICOM TLS through the bridge process', () => {
  let pki: TestPki;
  let bridge: BridgeProcess;
  let tlsPort: number;
  let study: GeneratedStudy | undefined;

  beforeAll(async () => {
    pki = await makeTestPki();
    tlsPort = await freePort();
    bridge = await startBridgeProcess({
      env: {
        PUBLISH_DEBOUNCE_MS: '200',
        DICOM_ALLOWED_CALLERS: 'MODALITY',
        DICOM_TLS_PORT: String(tlsPort),
        DICOM_TLS_CERT_FILE: pki.serverCert,
        DICOM_TLS_KEY_FILE: pki.serverKey,
        DICOM_TLS_CA_FILE: pki.caCert,
        DICOM_TLS_REQUIRE_CLIENT_CERT: 'true',
      },
    });
  });
  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
    if (study) await removeStudy(study.dir);
    pki?.remove();
  });

  it('storescu +tls → bridge → /studies/{uid} shows the instances; plain TCP still answers', async () => {
    study = await generateStudy({ series: 2, instances: 3, modalities: ['CT'], size: 'small' });
    const sent = await run(
      'storescu',
      ['+tls', pki.clientKey, pki.clientCert, '+cf', pki.caCert, '-aet', 'MODALITY', '-aec', bridge.aeTitle, '+sd', '+r', '127.0.0.1', String(tlsPort), study.dir],
      { timeoutMs: 60_000 },
    );
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    const uid = study.studyInstanceUid;
    const body = await eventually(async () => {
      const { body } = await bridge.get(`/studies/${uid}`);
      return body?.publishState === 'published' ? body : undefined;
    });
    expect(body).toMatchObject({ studyInstanceUid: uid, numberOfSeries: 2, numberOfInstances: 6 });

    const plain = await run('echoscu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort)], { timeoutMs: 30_000 });
    expect(plain.code, plain.stderr).toBe(0);
  });

  it('`echo --tls` answers through the TLS port; a client without a certificate is refused and the bridge keeps serving', async () => {
    const ok = await run(process.execPath, [
      CLI, 'echo', '127.0.0.1', String(tlsPort), '--aet', 'MODALITY', '--aec', bridge.aeTitle,
      '--tls', '--ca', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^C-ECHO to ${bridge.aeTitle}@127\\.0\\.0\\.1:${tlsPort}: Success \\(0000H\\) in \\d+ ms`));

    const anonymous = await run('echoscu', ['+tla', '+cf', pki.caCert, '-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(tlsPort)], {
      timeoutMs: 30_000,
    });
    expect(anonymous.code).not.toBe(0);
    await eventually(async () => (bridge.output().includes('DICOM TLS handshake failed') ? true : undefined), 10_000, 'the handshake warning');

    const again = await run('echoscu', ['+tls', pki.clientKey, pki.clientCert, '+cf', pki.caCert, '-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(tlsPort)]);
    expect(again.code, again.stderr).toBe(0);
  });

  it('logs the TLS listener, never the key', () => {
    const lines = bridge
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'DICOM TLS SCP listening', port: tlsPort, requireClientCert: true }));
    expect(lines.find((l) => l.msg === 'DICOM TLS handshake failed')).toMatchObject({ level: 40 });
    const keyLine = readFileSync(pki.serverKey, 'utf8').split('\n')[1]!;
    expect(bridge.output()).not.toContain(keyLine);
    expect(bridge.output()).not.toContain('PRIVATE KEY');
  });
});

describe('DICOM TLS configuration errors', () => {
  it('exit 2 naming the key: a missing file, a key without a certificate, requireClientCert without a CA, plain off without TLS', async () => {
    const bad = await run(process.execPath, [CLI, 'check-config'], {
      env: { DICOM_TLS_KEY_FILE: '/nonexistent/server.key', DICOM_TLS_REQUIRE_CLIENT_CERT: 'true', DICOM_PLAIN: 'false' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^dicom\.tls\.certFile \(DICOM_TLS_CERT_FILE\): keyFile is set without certFile$/m);
    expect(bad.stderr).toMatch(/^dicom\.tls\.keyFile \(DICOM_TLS_KEY_FILE\): \/nonexistent\/server\.key does not exist$/m);
    expect(bad.stderr).toMatch(/^dicom\.tls\.caFile \(DICOM_TLS_CA_FILE\): requireClientCert needs caFile/m);
    const start = await run(process.execPath, [CLI, 'start'], { env: { DICOM_PLAIN: 'false' } });
    expect(start.code).toBe(2);
    expect(start.stderr).toMatch(/^dicom\.plain \(DICOM_PLAIN\): false needs the TLS listener/m);
  });
});
