/**
 * Issue 22 item 3: write permission lost at run time. DATA_DIR on its own
 * ext4 image is made immutable (`chattr -R +i`) while the bridge runs: the
 * process keeps running (no SIGBUS from a memory-mapped -shm file), refuses
 * new C-STOREs with A700H, answers C-ECHO and HTTP, and once the flag is
 * cleared stores and publishes again by itself.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess } from '../support/bridge-process.js';
import { echoscu, published, storeResponses, storescu } from './helpers.js';
import { useStorageFaultSetup } from './storage-fault.js';

const setup = useStorageFaultSetup(64);

describe('DATA_DIR made immutable while running', () => {
  it('keeps serving, refuses stores with A700, and recovers when write permission returns', async () => {
    const { disk, before, during } = setup;
    const dataDir = join(disk.mountPoint, 'data');
    const bridge = (setup.bridge = await startBridgeProcess({ dataDir, env: { PUBLISH_DEBOUNCE_MS: '1500' } }));
    const first = await storescu(bridge, before.files, ['-v']);
    expect(storeResponses(first.stderr), first.stderr).toEqual(['Success', 'Success', 'Success']);

    // Written back, the mapped pages of a -shm file are clean: the next write to one faults, and
    // ext4 answers a fault on an immutable file with SIGBUS. The kernel's own writeback does
    // this within ~30 s of idling; sync does it now. The study's publish is due in 1.5 s: its
    // first read after the intake's writes updates the WAL read mark, a write to the -shm.
    await disk.sync();
    await disk.immutable(dataDir, true);
    try {
      await new Promise((r) => setTimeout(r, 2500));
      expect(bridge.child.signalCode, bridge.output().slice(-3000)).toBeNull();
      expect(bridge.child.exitCode, bridge.output().slice(-3000)).toBeNull();
      const refused = await storescu(bridge, during.files, ['-v', '-nh']);
      const answers = storeResponses(refused.stderr);
      expect(answers.length, refused.stderr).toBe(3);
      for (const answer of answers) expect(answer, refused.stderr).toBe('Refused: OutOfResources');
      // Alive and answering: the process, C-ECHO, HTTP.
      expect(bridge.child.exitCode, bridge.output()).toBeNull();
      expect(bridge.child.signalCode, bridge.output()).toBeNull();
      expect((await echoscu(bridge)).code).toBe(0);
      expect((await bridge.get('/healthz')).status).toBe(200);
      const ready = await bridge.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.storage).toMatchObject({ state: 'failing', reason: expect.stringMatching(/^SQLITE_(IOERR|READONLY|CANTOPEN|PERM)/) });
    } finally {
      await disk.immutable(dataDir, false);
    }

    await published(bridge, before.studyInstanceUid, 3);
    // Ready once writes have worked for the settle time (5 s) after the last fault.
    await eventually(async () => ((await bridge.get('/readyz')).status === 200 ? true : undefined), 30_000, '/readyz 200 again');
    const again = await storescu(bridge, during.files, ['-v', '-nh']);
    expect(storeResponses(again.stderr), again.stderr).toEqual(['Success', 'Success', 'Success']);
    await published(bridge, during.studyInstanceUid, 3);
    expect(bridge.child.exitCode, bridge.output()).toBeNull();
    expect(await bridge.stop()).toBe(0);
  }, 180_000);
});
