/**
 * Issue 22 item 4: a stalled disk. DATA_DIR on its own ext4 image is frozen
 * (`fsfreeze -f`) while the bridge runs: every SQLite write blocks (in the
 * database worker, not the event loop). /healthz and C-ECHO keep answering,
 * a C-STORE gets A700H after STORAGE_COMMIT_TIMEOUT_MS, /readyz is 503 naming
 * the stall; thawed, the bridge recovers by itself, and every instance that
 * was acknowledged is in the store read after stop.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import type { GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { published, storescu } from './helpers.js';
import { timed, useStorageFaultSetup } from './storage-fault.js';

const COMMIT_TIMEOUT_MS = 2_000;

const setup = useStorageFaultSetup(64, { during: { series: 1, instances: 2 }, after: { series: 1, instances: 3 } });

const echo = (b: BridgeProcess) => run('echoscu', ['-aet', 'MODALITY', '-aec', b.aeTitle, '127.0.0.1', String(b.dicomPort)], { timeoutMs: 30_000 });
const responses = (stderr: string) => [...stderr.matchAll(/Received Store Response \(([^)]*)\)/g)].map((m) => m[1]);
const sops = (study: GeneratedStudy) => study.series.flatMap((s) => s.sopInstanceUids);

describe('DATA_DIR frozen (fsfreeze) while running', () => {
  it('keeps answering health and C-ECHO, refuses stores with A700 after the wait, reports the stall, and recovers after the thaw', async () => {
    const { disk, before, during } = setup;
    const after = setup.after!;
    const dataDir = join(disk.mountPoint, 'data');
    const bridge = (setup.bridge = await startBridgeProcess({ dataDir, env: { PUBLISH_DEBOUNCE_MS: '500', STORAGE_COMMIT_TIMEOUT_MS: String(COMMIT_TIMEOUT_MS) } }));
    const acknowledged: string[] = [];
    const first = await storescu(bridge, before.files, ['-v']);
    expect(responses(first.stderr), first.stderr).toEqual(['Success', 'Success', 'Success']);
    acknowledged.push(...sops(before));
    await published(bridge, before.studyInstanceUid, 3);

    await disk.freeze(true);
    try {
      // One association, one instance after the other: the first waits for its commit, then A700.
      const storing = timed(() => storescu(bridge!, during.files, ['-d', '-nh']));
      // While that commit is stuck: health and C-ECHO answer at once.
      await new Promise((r) => setTimeout(r, 300));
      const health = await timed(() => bridge!.get('/healthz'));
      expect(health.value.status).toBe(200);
      expect(health.ms).toBeLessThan(1_000);
      const echoed = await timed(() => echo(bridge!));
      expect(echoed.value.code, echoed.value.stderr).toBe(0);
      expect(echoed.ms).toBeLessThan(5_000);

      const refused = await storing;
      const statuses = [...refused.value.stderr.matchAll(/DIMSE Status\s*:\s*0x([0-9a-f]{4})/g)].map((m) => m[1]);
      expect(statuses, refused.value.stderr).toEqual(['a700', 'a700']);
      // The Error Comment (0000,0902) names the condition.
      expect(refused.value.stderr).toMatch(/\(0000,0902\).*storage stalled/);
      // The first one waited the configured time; the second was refused at once (stalled).
      expect(refused.ms).toBeGreaterThanOrEqual(COMMIT_TIMEOUT_MS);

      const ready = await timed(() => bridge!.get('/readyz'));
      expect(ready.ms).toBeLessThan(1_000);
      expect(ready.value.status).toBe(503);
      expect(ready.value.body.storage).toMatchObject({ state: 'stalled', since: expect.any(String), reason: expect.stringMatching(/STORAGE_COMMIT_TIMEOUT_MS/) });
      const status = await timed(() => bridge!.get('/status'));
      expect(status.ms).toBeLessThan(1_000);
      expect(status.value.status).toBe(503);
      expect(status.value.body.storage).toMatchObject({ state: 'stalled' });
      expect((await echo(bridge)).code).toBe(0);
      expect(bridge.child.exitCode, bridge.output().slice(-3000)).toBeNull();
    } finally {
      await disk.freeze(false);
    }

    // Thawed: the stuck commit returns, the bridge is ready again by itself and takes stores.
    await eventually(async () => ((await bridge!.get('/readyz')).status === 200 ? true : undefined), 30_000, '/readyz 200 after the thaw');
    const again = await storescu(bridge, after.files, ['-v', '-nh']);
    expect(responses(again.stderr), again.stderr).toEqual(['Success', 'Success', 'Success']);
    acknowledged.push(...sops(after));
    await published(bridge, after.studyInstanceUid, 3);
    expect(bridge.output()).toMatch(/storage stalled/);
    expect(bridge.output()).toMatch(/storage answers again after a stall/);
    expect(await bridge.stop()).toBe(0);

    // Every acknowledged instance is in the store (merged, or still queued).
    const db = new Database(join(dataDir, 'bridge.sqlite'), { readonly: true });
    try {
      const merged = new Set(db.prepare<[], { sop_uid: string }>('SELECT sop_uid FROM instances').all().map((r) => r.sop_uid));
      const queued = db.prepare<[], { record: string }>('SELECT record FROM instance_jobs').all();
      for (const row of queued) merged.add((JSON.parse(row.record) as { instance: { sopInstanceUid: string } }).instance.sopInstanceUid);
      expect(acknowledged.filter((uid) => !merged.has(uid))).toEqual([]);
      expect(acknowledged).toHaveLength(6);
    } finally {
      db.close();
    }
  }, 180_000);
});
