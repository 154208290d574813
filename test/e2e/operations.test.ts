import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { generateStudy, removeStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

function echoscu(bridge: BridgeProcess, aet: string, aec = bridge.aeTitle) {
  return run('echoscu', ['-aet', aet, '-aec', aec, '127.0.0.1', String(bridge.dicomPort)], { timeoutMs: 30_000 });
}

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? Number.NaN : Number(line.split(' ').pop());
}

async function metrics(bridge: BridgeProcess): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${bridge.httpPort}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/text\/plain/);
  return res.text();
}

describe('operations: metrics, logs, status', () => {
  let bridge: BridgeProcess;
  let studyDir: string | undefined;

  beforeAll(async () => {
    bridge = await startBridgeProcess({ env: { PUBLISH_DEBOUNCE_MS: '200', DICOM_ALLOWED_CALLERS: 'MODALITY' } });
  });
  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
    if (studyDir) removeStudy(studyDir);
  });

  it('counts associations, instances, bytes and statuses; logs one line per association without patient data', async () => {
    const study = await generateStudy({
      series: 1,
      instances: 7,
      modalities: ['CT'],
      size: 'small',
      patientId: 'PID-SECRET-4711',
      patientName: 'Secretname^Patricia',
      accession: 'ACC-SECRET-99',
    });
    studyDir = study.dir;
    const sent = await run('storescu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '+sd', '+r', '127.0.0.1', String(bridge.dicomPort), study.dir]);
    expect(sent.code, sent.stderr).toBe(0);
    expect((await echoscu(bridge, 'MODALITY', 'WRONGAE')).code).not.toBe(0);
    expect((await echoscu(bridge, 'STRANGER')).code).not.toBe(0);
    await eventually(async () => {
      const { body } = await bridge.get(`/studies/${study.studyInstanceUid}`);
      return body?.publishState === 'published' ? body : undefined;
    });

    const text = await metrics(bridge);
    expect(metricValue(text, 'dfb_associations_accepted_total')).toBe(1);
    expect(metricValue(text, 'dfb_associations_rejected_total', '{reason="called-ae"}')).toBe(1);
    expect(metricValue(text, 'dfb_associations_rejected_total', '{reason="calling-ae"}')).toBe(1);
    expect(metricValue(text, 'dfb_instances_received_total')).toBe(7);
    expect(metricValue(text, 'dfb_cstore_responses_total', '{status="0000"}')).toBe(7);
    expect(metricValue(text, 'dfb_bytes_received_total')).toBeGreaterThan(7 * 64 * 64 * 2);
    expect(metricValue(text, 'dfb_studies', '{state="published"}')).toBe(1);
    expect(metricValue(text, 'dfb_queue_depth', '{queue="instances"}')).toBe(0);

    const lines = bridge
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const ended = lines.filter((l) => l.msg === 'association ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ callingAeTitle: 'MODALITY', instances: 7 });
    expect(typeof ended[0].durationMs).toBe('number');
    for (const secret of ['PID-SECRET-4711', 'Secretname', 'ACC-SECRET-99']) expect(bridge.output()).not.toContain(secret);
  });

  it('`status` reports studies by state from the running daemon; exit 1 when it is not reachable', async () => {
    const ok = await run(process.execPath, [CLI, 'status', '--url', `http://127.0.0.1:${bridge.httpPort}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/studies:\s+0 pending, 1 published, 0 failed/);
    expect(ok.stdout).toContain('oldest pending: none');
    const json = await run(process.execPath, [CLI, 'status', '--json', '--url', `http://127.0.0.1:${bridge.httpPort}`]);
    expect(JSON.parse(json.stdout).studies).toEqual({ pending: 0, published: 1, failed: 0 });
    const down = await run(process.execPath, [CLI, 'status', '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach the bridge/);
  });
});

describe('operations: configuration', () => {
  it('check-config exits 2 naming each bad key, and 0 with secrets masked otherwise', async () => {
    const bad = await run(process.execPath, [CLI, 'check-config'], { env: { DICOM_PORT: 'eleven', FHIR_VERSION: 'R7' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^dicom\.port \(DICOM_PORT\): /m);
    expect(bad.stderr).toMatch(/^fhir\.version \(FHIR_VERSION\): must be one of R4, R5, STU3$/m);
    const good = await run(process.execPath, [CLI, 'check-config'], { env: { REDIS_URL: 'redis://:hunter2@127.0.0.1:6379' } });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).not.toContain('hunter2');
    expect(JSON.parse(good.stdout).redisUrl).toBe('redis://***@127.0.0.1:6379');
  });

  it('start refuses an invalid configuration with exit 2 before opening any port', async () => {
    const res = await run(process.execPath, [CLI, 'start'], { env: { PUBLISH_DEBOUNCE_MS: '-5' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/pipeline\.debounceMs \(PUBLISH_DEBOUNCE_MS\)/);
  });

  it('peers: a host/CIDR restricts where an AE title may connect from; SIGHUP reloads peers without dropping a running association', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-peers-'));
    const file = join(dir, 'bridge.yaml');
    writeFileSync(file, 'peers:\n  - aeTitle: CT01\n    host: 127.0.0.0/8\n  - aeTitle: MR01\n    host: 10.0.0.0/8\n');
    const bridge = await startBridgeProcess({ env: { BRIDGE_CONFIG: file, PUBLISH_DEBOUNCE_MS: '200' } });
    const study = await generateStudy({ series: 1, instances: 300, modalities: ['CT'], size: 'small' });
    try {
      expect((await echoscu(bridge, 'CT01')).code).toBe(0);
      expect((await echoscu(bridge, 'MR01')).code).not.toBe(0);
      expect((await echoscu(bridge, 'US01')).code).not.toBe(0);

      // A long send by CT01 runs while the peers change under it.
      const sending = run('storescu', ['-aet', 'CT01', '-aec', bridge.aeTitle, '+sd', '+r', '127.0.0.1', String(bridge.dicomPort), study.dir], {
        timeoutMs: 120_000,
      });
      await eventually(async () => ((await bridge.get(`/studies/${study.studyInstanceUid}`)).status === 200 ? true : undefined), 30_000);
      writeFileSync(file, 'peers:\n  - aeTitle: US01\n  - aeTitle: MR01\n    host: 127.0.0.1\n');
      bridge.child.kill('SIGHUP');
      await eventually(async () => (bridge.output().includes('peers reloaded') ? true : undefined), 10_000, 'peers reloaded');
      const sent = await sending;
      expect(sent.code, sent.stderr).toBe(0);
      await eventually(async () => {
        const { body } = await bridge.get(`/studies/${study.studyInstanceUid}`);
        return body.numberOfInstances === 300 ? true : undefined;
      });
      expect((await echoscu(bridge, 'US01')).code).toBe(0);
      expect((await echoscu(bridge, 'MR01')).code).toBe(0);
      expect((await echoscu(bridge, 'CT01')).code).not.toBe(0);
    } finally {
      expect(await bridge.stop()).toBe(0);
      bridge.cleanup();
      removeStudy(study.dir);
    }
  });
});

describe('operations: per-peer association limit', () => {
  it("a peer's maxAssociations turns its extra associations away as temporary congestion; other peers are not affected", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-peers-'));
    const file = join(dir, 'bridge.yaml');
    writeFileSync(file, 'peers:\n  - aeTitle: CT01\n    maxAssociations: 1\n  - aeTitle: MR01\n');
    const bridge = await startBridgeProcess({ env: { BRIDGE_CONFIG: file, PUBLISH_DEBOUNCE_MS: '200' } });
    const study = await generateStudy({ series: 1, instances: 400, modalities: ['CT'], size: 'small' });
    try {
      const sending = run('storescu', ['-aet', 'CT01', '-aec', bridge.aeTitle, '+sd', '+r', '127.0.0.1', String(bridge.dicomPort), study.dir], {
        timeoutMs: 120_000,
      });
      await eventually(async () => ((await bridge.get(`/studies/${study.studyInstanceUid}`)).status === 200 ? true : undefined), 30_000);
      const second = await echoscu(bridge, 'CT01');
      expect(second.code).not.toBe(0);
      expect(second.stdout + second.stderr).toMatch(/Temporary Congestion/i);
      expect((await echoscu(bridge, 'MR01')).code).toBe(0);
      const sent = await sending;
      expect(sent.code, sent.stderr).toBe(0);
      expect((await echoscu(bridge, 'CT01')).code).toBe(0);
      const text = await metrics(bridge);
      expect(metricValue(text, 'dfb_associations_rejected_total', '{reason="congestion"}')).toBe(1);
    } finally {
      expect(await bridge.stop()).toBe(0);
      bridge.cleanup();
      removeStudy(study.dir);
    }
  });
});

describe('operations: graceful stop', () => {
  it('SIGTERM during a send: exits 0, and every acknowledged instance is there after a restart', async () => {
    const study = await generateStudy({ series: 1, instances: 400, modalities: ['MR'], size: 'small' });
    let bridge = await startBridgeProcess({ env: { PUBLISH_DEBOUNCE_MS: '200' } });
    try {
      const sending = run('storescu', ['-v', '-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort), ...study.files], {
        timeoutMs: 120_000,
      });
      await eventually(async () => {
        const { status, body } = await bridge.get(`/studies/${study.studyInstanceUid}`);
        return status === 200 && body.numberOfInstances >= 50 ? true : undefined;
      }, 30_000);
      const code = await bridge.stop(30_000);
      expect(code).toBe(0);
      expect(bridge.output()).toContain('dicom-fhir-bridge stopped');
      const sent = await sending;
      const acknowledged = (sent.stdout + sent.stderr).match(/Received Store Response \(Success\)/g)?.length ?? 0;
      expect(acknowledged).toBeGreaterThanOrEqual(50);

      bridge = await startBridgeProcess({ env: { PUBLISH_DEBOUNCE_MS: '200' }, dataDir: bridge.dataDir });
      const after = await eventually(async () => {
        const { body } = await bridge.get(`/studies/${study.studyInstanceUid}`);
        return body?.publishState === 'published' ? body : undefined;
      });
      expect(after.numberOfInstances).toBeGreaterThanOrEqual(acknowledged);
    } finally {
      await bridge.stop();
      bridge.cleanup();
      removeStudy(study.dir);
    }
  });
});
