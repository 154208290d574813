/**
 * The built-in FHIR endpoint's index on a stalled disk: DATA_DIR, on its own
 * ext4 image, is frozen (`fsfreeze -f`) while a study is published into the
 * endpoint (no FHIR_BASE_URL). The put into fhir-index.sqlite blocks in the
 * index's worker thread, not the event loop: /healthz and C-ECHO keep
 * answering, a FHIR search answers 503 (an OperationOutcome naming the
 * file) instead of hanging, the study stays pending (the put failed, the
 * publish is retried), /status (and `dicom-fhir-bridge status`) shows the
 * index stalled while /readyz stays 200; thawed, the study's ImagingStudy
 * is in the endpoint with all its instances and /status shows the index ok.
 *
 * bridge.sqlite is the one file kept off the frozen disk (a symlink to a
 * directory on the machine's disk): on the frozen disk, the publish would
 * stop at its first store write (beginPublish, in the database worker),
 * which storage-stalled.test.ts covers, and never reach the index's put.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import type { GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { echoscu, published, storescu } from './helpers.js';
import { timed, useStorageFaultSetup } from './storage-fault.js';

const COMMIT_TIMEOUT_MS = 2_000;
const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

// Registered before the shared setup, so its afterAll runs after the bridge has stopped (hooks unwind as a stack).
let pipelineDir: string;
beforeAll(() => {
  pipelineDir = mkdtempSync(join(tmpdir(), 'dfb-pipeline-'));
});
afterAll(() => {
  if (pipelineDir) rmSync(pipelineDir, { recursive: true, force: true });
});
const setup = useStorageFaultSetup(64, { during: { series: 2, instances: 2 } });

/** GET on the bridge; one that hangs (an event loop blocked on the disk) fails after 10 s, not at the test's timeout. */
async function get(b: BridgeProcess, path: string): Promise<{ status: number; body: any; contentType: string | null }> {
  const res = await fetch(`http://127.0.0.1:${b.httpPort}${path}`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json(), contentType: res.headers.get('content-type') };
}

/** GET on the built-in endpoint. */
async function fhirGet(b: BridgeProcess, path: string): Promise<{ status: number; body: any }> {
  const { status, body, contentType } = await get(b, `/fhir/${path}`);
  expect(contentType).toMatch(/application\/fhir\+json/);
  return { status, body };
}

const searchOf = (study: GeneratedStudy) => `ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${study.studyInstanceUid}`)}`;
const instancesOf = (study: GeneratedStudy) => study.series.reduce((n, s) => n + s.sopInstanceUids.length, 0);

describe('built-in FHIR endpoint: DATA_DIR frozen (fsfreeze) during a publish into its index', () => {
  it('keeps health and C-ECHO answering, answers FHIR searches 503, keeps the study pending, shows the stall in /status, and has its ImagingStudy after the thaw', async () => {
    const { disk, before, during } = setup;
    const dataDir = join(disk.mountPoint, 'data');
    mkdirSync(dataDir);
    symlinkSync(join(pipelineDir, 'bridge.sqlite'), join(dataDir, 'bridge.sqlite'));
    const bridge = (setup.bridge = await startBridgeProcess({
      dataDir,
      env: {
        PUBLISH_DEBOUNCE_MS: '300',
        STORAGE_COMMIT_TIMEOUT_MS: String(COMMIT_TIMEOUT_MS),
        // Retries every 0.5–2 s, so the one after the thaw comes soon.
        FHIR_RETRY_BASE_DELAY_MS: '500',
        FHIR_RETRY_MAX_DELAY_MS: '2000',
      },
    }));
    const first = await storescu(bridge, before.files);
    expect(first.code, first.stderr).toBe(0);
    await published(bridge, before.studyInstanceUid, 3);
    const found = await fhirGet(bridge, searchOf(before));
    expect(found.status).toBe(200);
    expect(found.body.total).toBe(1);
    expect((await get(bridge, '/status')).body.fhirIndex).toEqual({ state: 'ok' });

    await disk.freeze(true);
    try {
      // bridge.sqlite is not frozen: the C-STOREs are acknowledged, and the study's publish begins.
      const sent = await storescu(bridge, during.files);
      expect(sent.code, sent.stderr).toBe(0);
      // Begun (attempts counted in bridge.sqlite): its put is in the index worker, which the frozen disk holds.
      await eventually(async () => {
        const { body } = await get(bridge!, `/studies/${during.studyInstanceUid}`);
        return body?.attempts >= 1 ? true : undefined;
      }, 30_000, 'the publish of the study sent during the freeze begun');

      const health = await timed(() => get(bridge!, '/healthz'));
      expect(health.value.status).toBe(200);
      expect(health.ms).toBeLessThan(1_000);
      const echoed = await echoscu(bridge);
      expect(echoed.code, echoed.stderr).toBe(0);

      // Behind the stuck put: answered 503 at its deadline (or at once, stalled), not left hanging.
      const search = await fhirGet(bridge, searchOf(before));
      expect(search.status).toBe(503);
      expect(search.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] });
      expect(search.body.issue[0].diagnostics).toMatch(/storage stalled: fhir-index\.sqlite did not answer/);

      // Shown in /status (the store answers: 200), not in /readyz: C-STOREs are still stored.
      const status = await timed(() => get(bridge!, '/status'));
      expect(status.ms).toBeLessThan(1_000);
      expect(status.value.status).toBe(200);
      expect(status.value.body.storage).toEqual({ state: 'ok' });
      expect(status.value.body.fhirIndex).toMatchObject({ state: 'stalled', since: expect.any(String), reason: expect.stringMatching(/fhir-index\.sqlite/) });
      expect((await get(bridge, '/readyz')).status).toBe(200);
      const cli = await run(process.execPath, [CLI, 'status', '--url', `http://127.0.0.1:${bridge.httpPort}`]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/^FHIR index: stalled since \S+: no call to fhir-index\.sqlite returned/m);

      // The put failed: the study stays pending, its publish is retried (refused at once while stalled).
      const pending = await eventually(async () => {
        const { body } = await get(bridge!, `/studies/${during.studyInstanceUid}`);
        return body?.lastError?.includes('fhir-index.sqlite') ? body : undefined;
      }, 30_000, 'the failed put recorded');
      expect(pending.publishState).toBe('pending');
      expect((await fhirGet(bridge, searchOf(during))).status).toBe(503);
      const again = await timed(() => get(bridge!, '/healthz'));
      expect(again.value.status).toBe(200);
      expect(again.ms).toBeLessThan(1_000);
      expect(bridge.child.exitCode, bridge.output().slice(-3000)).toBeNull();
    } finally {
      await disk.freeze(false);
    }

    // Thawed: the stuck put returns, the retried publish puts the study, the endpoint has it whole.
    await published(bridge, during.studyInstanceUid, instancesOf(during));
    const after = await fhirGet(bridge, searchOf(during));
    expect(after.status).toBe(200);
    expect(after.body.total).toBe(1);
    expect(after.body.entry[0].resource).toMatchObject({ resourceType: 'ImagingStudy', numberOfSeries: 2, numberOfInstances: instancesOf(during) });
    expect((await fhirGet(bridge, searchOf(before))).body.total).toBe(1);
    expect((await get(bridge, '/status')).body.fhirIndex).toEqual({ state: 'ok' });
    expect(bridge.output()).toMatch(/FHIR index stalled/);
    expect(bridge.output()).toMatch(/FHIR index answers again after a stall/);
    expect(await bridge.stop()).toBe(0);
  }, 180_000);
});
