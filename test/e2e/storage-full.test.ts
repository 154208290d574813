/**
 * Issue 21 item 7: DATA_DIR full while the bridge runs (its own small ext4
 * image, filled to the last block). C-STOREs get A700H; the publish whose
 * end cannot be recorded backs off instead of restarting at once (the hot
 * loop starved the event loop: no C-ECHO, no HTTP, thousands of error
 * lines); the failure is logged once per interval; /readyz answers 503 and
 * /status and `dicom-fhir-bridge status` say why; once space returns the
 * bridge recovers by itself.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess } from '../support/bridge-process.js';
import { run } from '../support/run.js';
import { echoscu, published, storeResponses, storescu } from './helpers.js';
import { useStorageFaultSetup } from './storage-fault.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

const setup = useStorageFaultSetup(24);
const logLines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('DATA_DIR full while running', () => {
  it('refuses stores, backs off, logs once, reports 503 and why, and recovers when space returns', async () => {
    const { disk, before, during } = setup;
    const bridge = (setup.bridge = await startBridgeProcess({ dataDir: join(disk.mountPoint, 'data'), env: { PUBLISH_DEBOUNCE_MS: '1500' } }));
    const first = await storescu(bridge, before.files, ['-v']);
    expect(storeResponses(first.stderr), first.stderr).toEqual(['Success', 'Success', 'Success']);

    // Full before the study's publish is due: its end (and the resource) cannot be written.
    await disk.fill();
    try {
      await new Promise((r) => setTimeout(r, 4000));
      expect(bridge.child.exitCode, bridge.output().slice(-3000)).toBeNull();
      // The event loop is free: C-ECHO and HTTP answer, C-STOREs get A700H.
      expect((await echoscu(bridge)).code).toBe(0);
      expect((await bridge.get('/healthz')).status).toBe(200);
      const refused = await storescu(bridge, during.files, ['-v', '-nh']);
      expect(storeResponses(refused.stderr), refused.stderr).toEqual(['Refused: OutOfResources', 'Refused: OutOfResources', 'Refused: OutOfResources']);

      const ready = await bridge.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.storage).toMatchObject({ state: 'failing', reason: expect.stringMatching(/^SQLITE_FULL/) });
      const status = await bridge.get('/status');
      expect(status.status).toBe(200);
      expect(status.body.storage).toMatchObject({ state: 'failing', since: expect.any(String) });
      const cli = await run(process.execPath, [CLI, 'status', '--url', `http://127.0.0.1:${bridge.httpPort}`]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/^storage: +failing since \S+: SQLITE_FULL/m);

      // Once per interval, not once per attempt or per refused store.
      const lines = logLines(bridge.output());
      expect(lines.filter((l) => l.msg === 'could not record the end of a publish').length).toBeLessThanOrEqual(1);
      expect(lines.filter((l) => l.msg === 'could not commit instance records').length).toBe(1);
      expect(lines.filter((l) => l.level >= 50).length).toBeLessThan(10);
    } finally {
      await disk.unfill();
    }

    // By itself: the probe write succeeds, the held publish runs after its backoff, stores succeed.
    await eventually(async () => ((await bridge!.get('/readyz')).status === 200 ? true : undefined), 60_000, '/readyz 200 again');
    expect((await bridge.get('/status')).body.storage).toEqual({ state: 'ok' });
    await published(bridge, before.studyInstanceUid, 3, 90_000);
    const again = await storescu(bridge, during.files, ['-v', '-nh']);
    expect(storeResponses(again.stderr), again.stderr).toEqual(['Success', 'Success', 'Success']);
    await published(bridge, during.studyInstanceUid, 3);
    expect(await bridge.stop()).toBe(0);
  }, 240_000);
});
