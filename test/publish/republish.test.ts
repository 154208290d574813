/**
 * Republishing failed studies: the admin endpoints (src/http/admin.ts) on the bridge's
 * HTTP server in this process over a real SQLite pipeline and publisher,
 * driven by the real CLI process (`dicom-fhir-bridge republish`).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { progressBar, daemonUrl } from '../../src/commands/republish.js';
import { FhirClient } from '../../src/fhir-client/fhir-client.js';
import { createHttpServer } from '../../src/http/server.js';
import { Publisher } from '../../src/publish/publisher.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { freePort } from '../support/free-port.js';
import { run } from '../support/run.js';
import { makeRecord, silentLogger, tempDir } from '../pipeline/helpers.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const UIDS = ['1.2.3.500', '1.2.3.501', '1.2.3.502'];

let fhir: TestFhirServer;
let pipeline: Pipeline;
let remove: () => Promise<void>;
let http: Server;
let base: string;

const cli = (...args: string[]) => run(process.execPath, [CLI, 'republish', ...args], { timeoutMs: 30_000 });
const stateOf = async (uid: string) => (await pipeline.store.getSummary(uid))?.publish.state;

beforeAll(async () => {
  fhir = await startFhirServer();
  const temp = await tempDir();
  remove = temp.remove;
  pipeline = openSqlitePipeline({ dataDir: temp.dir, logger: silentLogger });
  const { queue, store } = pipeline;
  new Publisher({
    queue,
    store,
    client: new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 10_000 }),
    mappingOptionsFor: () => ({
      fhirVersion: 'R4',
      patientIdentifier: { defaultSystem: 'urn:dicom-fhir-bridge:patient-id', issuerSystems: {} },
      timezone: 'UTC',
      basedOn: 'off',
    }),
    logger: silentLogger,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  }).start();
  const schedule = { debounceMs: 50, maxDelayMs: 500 };
  // The bridge's own HTTP server, which mounts the admin endpoints.
  http = createHttpServer({ store, queue, schedule, isReady: () => true, logger: silentLogger, fhirTarget: fhir.baseUrl });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  // Three studies the server refuses: failed.
  fhir.faults.rejectStudyUids = UIDS;
  await store.mergeInstances(UIDS.map((u, i) => makeRecord({ study: u, series: `${u}.1`, sop: `${u}.1.${i}` })));
  for (const u of UIDS) await queue.schedulePublish(u, schedule);
  await vi.waitFor(async () => expect((await store.listSummaries({ state: 'failed' })).length).toBe(3), { timeout: 15_000 });
});

afterAll(async () => {
  http?.closeAllConnections();
  await new Promise((r) => http?.close(r));
  await pipeline?.close();
  await remove?.();
  await fhir?.close();
});

describe('dicom-fhir-bridge republish', () => {
  it('GET /studies?state=failed lists the refused studies with the server’s explanation', async () => {
    const list = (await (await fetch(`${base}/studies?state=failed`)).json()) as any[];
    expect(list.map((s) => s.studyInstanceUid).sort()).toEqual(UIDS);
    expect(list.every((s) => s.lastError === 'injected rejection: this study is refused')).toBe(true);
  });

  it('republish <uid> after the fix publishes that study; an unknown UID exits 1', async () => {
    fhir.faults.rejectStudyUids = [];
    const result = await cli('--url', base, UIDS[0]!);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('1 study scheduled for republish\n');
    await vi.waitFor(async () => expect(await stateOf(UIDS[0]!)).toBe('published'), { timeout: 10_000 });
    expect(await stateOf(UIDS[1]!)).toBe('failed');

    const unknown = await cli('--url', base, '9.9.9.9');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/9\.9\.9\.9: unknown study/);
  });

  it('republish --failed republishes every failed study, one progress line each when stderr is not a terminal', async () => {
    const result = await cli('--url', base, '--failed');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.trim().split('\n').sort();
    expect(lines).toEqual([expect.stringMatching(/^[12]\/2 1\.2\.3\.50[12] scheduled$/), expect.stringMatching(/^[12]\/2 1\.2\.3\.50[12] scheduled$/)]);
    expect(result.stdout).toBe('2 studies scheduled for republish\n');
    for (const u of UIDS) await vi.waitFor(async () => expect(await stateOf(u)).toBe('published'), { timeout: 10_000 });
    for (const u of UIDS) {
      const bundle = await fhir.search(`ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${u}`)}`);
      expect(bundle.entry).toHaveLength(1);
    }
    const none = await cli('--url', base, '--failed');
    expect(none.stdout).toBe('no failed studies\n');
  });

  it('POST /studies/republish needs state=failed; other methods are refused', async () => {
    expect((await fetch(`${base}/studies/republish`, { method: 'POST' })).status).toBe(400);
    expect((await fetch(`${base}/studies/${UIDS[0]}/republish`)).status).toBe(405);
    const bulk = await fetch(`${base}/studies/republish?state=failed`, { method: 'POST' });
    expect(bulk.status).toBe(202);
    expect(await bulk.json()).toEqual({ count: 0, studyInstanceUids: [] });
  });

  it('exits 1 with a clear message when the daemon is not reachable; finds it from HTTP_HOST/HTTP_PORT', async () => {
    const port = await freePort();
    const result = await run(process.execPath, [CLI, 'republish', '--failed'], {
      env: { HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) },
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach the bridge at http://127.0.0.1:${port} (ECONNREFUSED): is it running?`);
    expect(daemonUrl({ host: '0.0.0.0', port: 8080 })).toBe('http://127.0.0.1:8080');
    expect(daemonUrl({ host: '::1', port: 8080 })).toBe('http://[::1]:8080');
  });

  it('draws a progress bar', () => {
    expect(progressBar(0, 4, 8)).toBe('[        ] 0/4');
    expect(progressBar(2, 4, 8)).toBe('[####    ] 2/4');
    expect(progressBar(4, 4, 8)).toBe('[########] 4/4');
  });
});
