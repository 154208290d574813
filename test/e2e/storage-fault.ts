/**
 * The setup the storage-fault e2e tests share: a loop-mounted ext4 image of
 * its own for DATA_DIR, and two small studies, one sent before the fault and
 * one during it. Registers its beforeAll / afterAll; the test starts the
 * bridge (options differ) and puts it in `bridge` so afterAll stops it before
 * the disk is unmounted.
 */
import { afterAll, beforeAll } from 'vitest';
import type { BridgeProcess } from '../support/bridge-process.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { mountLoopDisk, type LoopDisk } from '../support/loop-disk.js';

export interface StorageFaultSetup {
  disk: LoopDisk;
  before: GeneratedStudy;
  during: GeneratedStudy;
  bridge?: BridgeProcess;
}

export function useStorageFaultSetup(diskMb: number): StorageFaultSetup {
  const setup = {} as StorageFaultSetup;
  beforeAll(async () => {
    setup.before = await generateStudy({ series: 1, instances: 3 });
    setup.during = await generateStudy({ series: 1, instances: 3 });
    setup.disk = await mountLoopDisk(diskMb);
  });
  afterAll(async () => {
    try {
      await setup.bridge?.stop();
    } finally {
      await setup.disk?.dispose();
      if (setup.before) await removeStudy(setup.before.dir);
      if (setup.during) await removeStudy(setup.during.dir);
    }
  });
  return setup;
}
