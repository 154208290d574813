import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirError, lockDataDir, prepareDataDir } from '../../src/pipeline/sqlite/data-dir-lock.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { silentLogger, tempDir } from './helpers.js';

describe('DATA_DIR lock', () => {
  it('is exclusive, names its holder, and is free again after release', async () => {
    const tmp = await tempDir('lock-');
    const lock = lockDataDir(tmp.dir);
    const holder = JSON.parse(readFileSync(join(tmp.dir, 'bridge.lock.json'), 'utf8'));
    expect(holder.pid).toBe(process.pid);
    expect(() => lockDataDir(tmp.dir)).toThrow(DataDirError);
    expect(() => lockDataDir(tmp.dir)).toThrow(new RegExp(`in use by another dicom-fhir-bridge \\(PID ${process.pid} on `));
    lock.release();
    expect(existsSync(join(tmp.dir, 'bridge.lock.json'))).toBe(false);
    lockDataDir(tmp.dir).release();
    await tmp.remove();
  });

  it('is held by the embedded pipeline while it is open', async () => {
    const tmp = await tempDir('lock-pipeline-');
    const pipeline = openSqlitePipeline({ dataDir: tmp.dir, logger: silentLogger });
    expect(() => openSqlitePipeline({ dataDir: tmp.dir, logger: silentLogger })).toThrow(/is in use by another dicom-fhir-bridge/);
    await pipeline.close();
    const again = openSqlitePipeline({ dataDir: tmp.dir, logger: silentLogger });
    await again.close();
    await tmp.remove();
  });

  it('creates missing parts one at a time and refuses pseudo filesystems', async () => {
    const tmp = await tempDir('lock-mk-');
    expect(prepareDataDir(join(tmp.dir, 'a', 'b', 'c'))).toBe(join(tmp.dir, 'a', 'b', 'c'));
    expect(existsSync(join(tmp.dir, 'a', 'b', 'c'))).toBe(true);
    expect(() => prepareDataDir('/proc/nope')).toThrow('DATA_DIR /proc/nope: /proc is on a proc filesystem, not storage: choose a directory on a disk');
    await tmp.remove();
  });
});
