/**
 * The setup the storage-fault e2e tests share: a loop-mounted ext4 image of
 * its own for DATA_DIR, and small studies, one sent before the fault, one
 * during it and, when asked for, one after it. Registers its beforeAll /
 * afterAll; the test starts the bridge (options differ) and puts it in
 * `bridge` so afterAll stops it before the disk is unmounted.
 */
import { afterAll, beforeAll } from 'vitest';
import type { BridgeProcess } from '../support/bridge-process.js';
import { generateStudy, removeStudy, type GeneratedStudy, type GenerateStudyOptions } from '../support/generate-study.js';
import { mountLoopDisk, type LoopDisk } from '../support/loop-disk.js';

export interface StorageFaultSetup {
  disk: LoopDisk;
  before: GeneratedStudy;
  during: GeneratedStudy;
  /** Only when asked for (StorageFaultStudies.after). */
  after?: GeneratedStudy;
  bridge?: BridgeProcess;
}

/** The studies besides `before` (1 series of 3): `during` is 1 series of 3 unless given. */
export interface StorageFaultStudies {
  during?: GenerateStudyOptions;
  after?: GenerateStudyOptions;
}

export function useStorageFaultSetup(diskMb: number, studies: StorageFaultStudies = {}): StorageFaultSetup {
  const setup = {} as StorageFaultSetup;
  beforeAll(async () => {
    setup.before = await generateStudy({ series: 1, instances: 3 });
    setup.during = await generateStudy(studies.during ?? { series: 1, instances: 3 });
    if (studies.after) setup.after = await generateStudy(studies.after);
    setup.disk = await mountLoopDisk(diskMb);
  });
  afterAll(async () => {
    try {
      // Thawed first (dispose does it as well): a bridge on a frozen mount cannot stop, and the mount left behind hangs other tests.
      await setup.disk?.freeze(false).catch(() => {});
      await setup.bridge?.stop();
    } finally {
      await setup.disk?.dispose();
      for (const study of [setup.before, setup.during, setup.after]) if (study) await removeStudy(study.dir);
    }
  });
  return setup;
}

/** The value of `f` and how long it took. */
export async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await f();
  return { value, ms: Date.now() - start };
}
