import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, removeStudy } from '../support/generate-study.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { run } from '../support/run.js';
import { publishedOnServer, storescuTracked } from './helpers.js';

function storescu(port: number, files: string[]) {
  return run('storescu', ['-aet', 'MODALITY', '-aec', 'FHIRBRIDGE', '127.0.0.1', String(port), ...files], { timeoutMs: 180_000 });
}

/** storescu -v over `files`; calls `onAck(n)` after each success; resolves with the acknowledged files. */
describe('distributed mode: several processes on one Redis', () => {
  let redis: TestRedis;
  let fhir: TestFhirServer;
  const started: BridgeProcess[] = [];
  let prefixCounter = 0;

  function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      REDIS_URL: redis.url,
      REDIS_PREFIX: `dist${process.pid}x${prefixCounter}`,
      REDIS_LOCK_DURATION_MS: '3000',
      PUBLISH_DEBOUNCE_MS: '400',
      PUBLISH_MAX_DELAY_MS: '5000',
      ...extra,
    };
  }

  async function start(role: 'all' | 'scp' | 'worker', env: Record<string, string>): Promise<BridgeProcess> {
    const bridge = await startBridgeProcess({ env, args: ['--role', role] });
    started.push(bridge);
    return bridge;
  }

  beforeAll(async () => {
    redis = await startRedis();
    fhir = await startFhirServer();
  });

  afterAll(async () => {
    for (const bridge of started) {
      await bridge.stop();
      bridge.cleanup();
    }
    await fhir?.close();
    await redis?.stop();
  });

  it('2 scp and 2 worker processes receive 4 studies in parallel: exact counts, one resource per study', async () => {
    prefixCounter += 1;
    // The scp role needs no FHIR settings; the workers publish.
    const scps = [await start('scp', baseEnv()), await start('scp', baseEnv())];
    const workerEnv = baseEnv({ FHIR_BASE_URL: fhir.baseUrl });
    await start('worker', workerEnv);
    await start('worker', workerEnv);
    expect(scps[0]!.output()).not.toMatch(/FHIR_BASE_URL/);

    const studies = await Promise.all(
      [0, 1, 2, 3].map(() => generateStudy({ series: 2, instances: 25, modalities: ['CT', 'MR'], size: 'small' })),
    );
    try {
      const results = await Promise.all(studies.map((study, i) => storescu(scps[i % 2]!.dicomPort, study.files)));
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      for (const study of studies) {
        const resource = await publishedOnServer(fhir, study.studyInstanceUid, 50);
        expect(resource.numberOfSeries).toBe(2);
        const uids = resource.series.flatMap((s: any) => s.instance.map((i: any) => i.uid));
        expect(new Set(uids).size).toBe(50);
        expect(uids.sort()).toEqual(study.series.flatMap((s) => s.sopInstanceUids).sort());
      }
      // Each scp process can answer for every study: the store is shared.
      const viaOther = await scps[1]!.get(`/studies/${studies[0]!.studyInstanceUid}`);
      expect(viaOther.body.numberOfInstances).toBe(50);
    } finally {
      studies.forEach((s) => removeStudy(s.dir));
    }
  });

  it('Redis killed and restarted during a send: readiness drops, nothing acknowledged is lost', async () => {
    prefixCounter += 1;
    const bridge = await start('all', baseEnv({ FHIR_BASE_URL: fhir.baseUrl }));
    const study = await generateStudy({ series: 1, instances: 600, modalities: ['CT'], size: 'small' });
    try {
      let killed = false;
      const first = await storescuTracked(bridge, study.files, (n) => {
        if (n === 200 && !killed) {
          killed = true;
          process.kill(redis.pid, 'SIGKILL');
        }
      });
      expect(killed).toBe(true);
      expect(first.acknowledged.size).toBeGreaterThanOrEqual(200);
      expect(first.acknowledged.size).toBeLessThan(600);
      // Not ready while Redis is away; the process keeps running.
      await eventually(async () => ((await bridge.get('/readyz')).status === 503 ? true : undefined), 20_000, '/readyz 503');
      expect(bridge.child.exitCode).toBeNull();

      await redis.restart();
      await eventually(async () => ((await bridge.get('/readyz')).status === 200 ? true : undefined), 30_000, '/readyz 200');
      const rest = study.files.filter((f) => !first.acknowledged.has(f));
      const resent = await storescu(bridge.dicomPort, rest);
      expect(resent.code, resent.stderr).toBe(0);

      const resource = await publishedOnServer(fhir, study.studyInstanceUid, 600, 90_000);
      expect(new Set(resource.series[0].instance.map((i: any) => i.uid)).size).toBe(600);
    } finally {
      removeStudy(study.dir);
    }
  });

  it('a worker killed in the middle of a publish does not keep its study from being published', async () => {
    prefixCounter += 1;
    const scp = await start('scp', baseEnv());
    const workerEnv = baseEnv({ FHIR_BASE_URL: fhir.baseUrl });
    const doomed = await start('worker', workerEnv);
    const study = await generateStudy({ series: 1, instances: 5, modalities: ['US'], size: 'small' });
    const answeredBefore = fhir.requests.length;
    fhir.faults.delayMs = 60_000;
    try {
      const sent = await storescu(scp.dicomPort, study.files);
      expect(sent.code, sent.stderr).toBe(0);
      // The publish has reached the FHIR server (its read before the write) and waits for the answer.
      await eventually(
        async () =>
          fhir.requests.slice(answeredBefore).some((r) => r.url.includes('ImagingStudy') && r.status === 0) ? true : undefined,
        30_000,
        'an ImagingStudy request in flight',
      );
      await doomed.kill9();
      fhir.faults.delayMs = 0;
      await start('worker', workerEnv);
      const resource = await publishedOnServer(fhir, study.studyInstanceUid, 5, 60_000);
      expect(resource.modality[0].code).toBe('US');
    } finally {
      fhir.faults.delayMs = 0;
      removeStudy(study.dir);
    }
  });
});
