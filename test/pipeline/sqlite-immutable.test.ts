/**
 * Issue 22 item 3: DATA_DIR loses write permission while the embedded
 * pipeline runs (`chattr +i` on its own ext4 image). Before exclusive
 * locking mode the WAL index was a memory-mapped -shm file: the first write
 * to one of its written-back pages (a read sets a read mark) was a SIGBUS.
 * Now reads keep working, writes fail with an error, and work again once
 * the permission is back. Runs in a child process: a SIGBUS kills it, not
 * the test runner.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountLoopDisk, type LoopDisk } from '../support/loop-disk.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const writer = fileURLToPath(new URL('./fixtures/immutable-writer.mjs', import.meta.url));
const compiled = path.join(repo, 'dist/pipeline/sqlite/index.js');

beforeAll(() => {
  expect(existsSync(compiled), 'dist/ is missing: run npm run build (npm test does)').toBe(true);
});

let disk: LoopDisk | undefined;
afterEach(async () => {
  await disk?.dispose();
  disk = undefined;
});

describe('write permission lost at run time (chattr +i)', () => {
  it('reads go on, writes fail with an error (no SIGBUS), writes work again once it is back', async () => {
    disk = await mountLoopDisk(32);
    const dataDir = path.join(disk.mountPoint, 'data');
    const child = spawn(process.execPath, [writer, compiled, dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
    const steps: any[] = [];
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<any> => {
      const line = await lines.next();
      if (line.done) {
        const end = await exited;
        throw new Error(`writer ended (code ${end.code}, signal ${end.signal}) after ${JSON.stringify(steps)}: ${stderr}`);
      }
      const step = JSON.parse(line.value);
      steps.push(step);
      return step;
    };
    try {
      expect(await next()).toEqual({ step: 'ready' });
      // No -shm file: nothing of the database is memory-mapped.
      expect((await readdir(dataDir)).filter((f) => f.startsWith('bridge.sqlite'))).not.toContain('bridge.sqlite-shm');
      // Written-back pages are what faults: the kernel's writeback would clean them within ~30 s.
      await disk.sync();
      await disk.immutable(dataDir, true);
      try {
        child.stdin.write('lost\n');
        const lost = await next();
        expect(lost.depth).toEqual({ ok: true, value: { instances: 400, publishes: 0 } });
        expect(lost.add.ok).toBe(false);
        expect(lost.add.code).toMatch(/^SQLITE_(IOERR|READONLY|CANTOPEN|PERM)/);
        expect(lost.counts.ok).toBe(true);
      } finally {
        await disk.immutable(dataDir, false);
      }
      child.stdin.write('back\n');
      const back = await next();
      expect(back.add).toEqual({ ok: true });
      expect(back.depth).toEqual({ ok: true, value: { instances: 400, publishes: 0 } });
      expect(await next()).toEqual({ step: 'closed' });
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  }, 60_000);
});
