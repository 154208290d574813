/**
 * Real processes: storescu → bridge (`node dist/cli.js start`) → test FHIR
 * server. The FHIR server goes away for 30 s in the middle of a send and comes
 * back on the same port with the same data: every study is published, none
 * twice. And a bridge with client-credentials auth from the environment sends
 * its token and never logs its secret.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { startTokenEndpoint } from '../support/token-endpoint.js';

const OUTAGE_MS = 30_000;

async function imagingStudies(fhir: TestFhirServer, uid: string): Promise<any[]> {
  const bundle = await fhir.search(`ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${uid}`)}`);
  return (bundle.entry ?? []).map((e: any) => e.resource);
}

async function published(bridge: BridgeProcess, uid: string, instances: number, timeoutMs: number) {
  return eventually(
    async () => {
      const { status, body } = await bridge.get(`/studies/${uid}`);
      return status === 200 && body.publishState === 'published' && body.numberOfInstances === instances ? body : undefined;
    },
    timeoutMs,
    `study ${uid} published with ${instances} instances`,
  );
}

describe('FHIR server outage of 30 s in the middle of a send', () => {
  let fhir: TestFhirServer;
  let bridge: BridgeProcess;
  const studies: GeneratedStudy[] = [];

  beforeAll(async () => {
    fhir = await startFhirServer();
    for (let i = 0; i < 3; i++) studies.push(await generateStudy({ series: 2, instances: 100, modalities: ['CT', 'MR'], size: 'small' }));
    bridge = await startBridgeProcess({
      env: {
        FHIR_BASE_URL: fhir.baseUrl,
        PUBLISH_DEBOUNCE_MS: '300',
        PUBLISH_MAX_DELAY_MS: '3000',
        FHIR_RETRY_BASE_DELAY_MS: '200',
        FHIR_RETRY_MAX_DELAY_MS: '2000',
        FHIR_REQUEST_TIMEOUT_MS: '5000',
      },
    });
  });

  afterAll(async () => {
    expect(await bridge?.stop()).toBe(0);
    bridge?.cleanup();
    for (const s of studies) await removeStudy(s.dir);
    await fhir?.close();
  });

  it('publishes every study once the server is back, exactly one ImagingStudy per Study UID with exact counts', async () => {
    const [first, ...rest] = studies;
    const storescu = (files: string[]) =>
      spawn('storescu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort), ...files], {
        env: { ...process.env, TCP_NODELAY: '1' },
        stdio: 'ignore',
      });
    const exited = (child: ReturnType<typeof spawn>) => new Promise<number | null>((res) => child.on('close', res));
    expect(await exited(storescu(first!.files))).toBe(0);
    await published(bridge, first!.studyInstanceUid, 200, 30_000);

    // The next send is under way (the bridge has the second study): the server goes away.
    const sender = storescu(rest.flatMap((s) => s.files));
    const senderDone = exited(sender);
    await eventually(async () => ((await bridge.get(`/studies/${rest[0]!.studyInstanceUid}`)).status === 200 ? true : undefined), 30_000, 'the send under way');
    await fhir.stop();
    const stoppedAt = Date.now();
    expect(sender.exitCode).toBeNull();
    expect(await senderDone).toBe(0);
    // The bridge keeps trying meanwhile: its studies stay pending, none failed.
    await eventually(async () => {
      const { body } = await bridge.get('/studies?state=pending');
      return body.some((s: any) => s.lastError !== null) ? true : undefined;
    }, 20_000, 'a pending study with a connection error');
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt))));
    expect((await bridge.get('/studies?state=failed')).body).toEqual([]);
    await fhir.restart();

    for (const s of studies) await published(bridge, s.studyInstanceUid, 200, 60_000);
    for (const s of studies) {
      const found = await imagingStudies(fhir, s.studyInstanceUid);
      expect(found).toHaveLength(1);
      expect(found[0].numberOfSeries).toBe(2);
      expect(found[0].numberOfInstances).toBe(200);
    }
    expect((await fhir.search('ImagingStudy?_count=100')).entry).toHaveLength(3);
  }, 150_000);
});

describe('auth from the environment, in the bridge process', () => {
  it('client-credentials: FHIR requests carry the bearer token; the secret is in no log line', async () => {
    const fhir = await startFhirServer();
    const tokens = await startTokenEndpoint({ clientId: 'bridge', clientSecret: 'very-secret-value' });
    fhir.faults.requireBearer = 'tok-1';
    const study = await generateStudy({ series: 1, instances: 2, size: 'small' });
    const bridge = await startBridgeProcess({
      env: {
        FHIR_BASE_URL: fhir.baseUrl,
        PUBLISH_DEBOUNCE_MS: '200',
        FHIR_AUTH_TYPE: 'client-credentials',
        FHIR_TOKEN_URL: tokens.url,
        FHIR_CLIENT_ID: 'bridge',
        FHIR_CLIENT_SECRET: 'very-secret-value',
        FHIR_SCOPE: 'system/ImagingStudy.cu',
        LOG_LEVEL: 'debug',
      },
    });
    try {
      const sent = await run('storescu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort), ...study.files]);
      expect(sent.code, sent.stderr).toBe(0);
      await published(bridge, study.studyInstanceUid, 2, 30_000);
      expect(tokens.requests.map((r) => r.form)).toEqual([{ grant_type: 'client_credentials', scope: 'system/ImagingStudy.cu' }]);
      expect(fhir.requests.length).toBeGreaterThan(0);
      expect(fhir.requests.every((r) => r.headers.authorization === 'Bearer tok-1')).toBe(true);
      const config = await run(process.execPath, [new URL('../../dist/cli.js', import.meta.url).pathname, 'check-config'], {
        env: { FHIR_BASE_URL: fhir.baseUrl, FHIR_AUTH_TYPE: 'client-credentials', FHIR_TOKEN_URL: tokens.url, FHIR_CLIENT_ID: 'bridge', FHIR_CLIENT_SECRET: 'very-secret-value' },
      });
      expect(config.code, config.stderr).toBe(0);
      expect(JSON.parse(config.stdout).fhir.auth.clientSecret).toBe('***');
      expect(`${bridge.output()}${config.stdout}`).not.toContain('very-secret-value');
      expect(bridge.output()).not.toContain('tok-1');
    } finally {
      await bridge.stop();
      bridge.cleanup();
      await removeStudy(study.dir);
      await tokens.close();
      await fhir.close();
    }
  });
});
