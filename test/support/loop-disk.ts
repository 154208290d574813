/**
 * A small ext4 filesystem of its own for a storage-fault test (loop-mounted
 * image under a temp dir): filled up, made immutable, frozen, without
 * touching the machine's disks. Needs root (CI runs as root); without it the
 * test fails with a clear message, it is not skipped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.js';

export interface LoopDisk {
  /** Where the filesystem is mounted. */
  mountPoint: string;
  /** chattr -R +i / -i on a path inside it. */
  immutable(path: string, on: boolean): Promise<void>;
  /** Fills every free block (files mountPoint/filler*), until ENOSPC and no block is free. */
  fill(): Promise<void>;
  /** Removes the filler file: the space is back. */
  unfill(): Promise<void>;
  /** Writes back every dirty page of the filesystem (sync -f). */
  sync(): Promise<void>;
  /** fsfreeze -f / -u: every write to the filesystem blocks until it is thawed. dispose() thaws too. */
  freeze(on: boolean): Promise<void>;
  /** Unmounts (clearing immutable flags first) and removes the image; safe to call twice. */
  dispose(): Promise<void>;
}

async function must(command: string, args: string[]): Promise<string> {
  const r = await run(command, args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} → ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Mounts a fresh ext4 image of `sizeMb` MiB. */
export async function mountLoopDisk(sizeMb: number): Promise<LoopDisk> {
  if (process.getuid?.() !== 0) {
    throw new Error('storage-fault tests need root (loop mount, chattr +i, fsfreeze): run them as root, as CI does');
  }
  const dir = await mkdtemp(join(tmpdir(), 'dfb-disk-'));
  const image = join(dir, 'disk.img');
  const mountPoint = join(dir, 'mnt');
  let mounted = false;
  let frozen = false;
  const dispose = async (): Promise<void> => {
    // A frozen mount left behind hangs whatever writes to it, umount included.
    if (frozen) {
      await run('fsfreeze', ['-u', mountPoint]);
      frozen = false;
    }
    if (mounted) {
      await run('chattr', ['-R', '-i', mountPoint]);
      // A process that died inside it may still hold it for a moment.
      for (let i = 0; i < 50; i++) {
        const r = await run('umount', [mountPoint]);
        if (r.code === 0) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      mounted = false;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await must('truncate', ['-s', `${sizeMb}M`, image]);
    // No blocks reserved for root (the tests run as root): full means full.
    await must('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
    await must('mkdir', ['-p', mountPoint]);
    await must('mount', ['-o', 'loop', image, mountPoint]);
    mounted = true;
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    mountPoint,
    async fill() {
      // dd ends with ENOSPC (exit 1), which is the point. Written back, ext4 gives back the
      // blocks it had reserved for delayed allocation: fill those too, with small blocks.
      for (let round = 0; round < 5; round++) {
        const r = await run('dd', ['if=/dev/zero', `of=${join(mountPoint, `filler${round}`)}`, round === 0 ? 'bs=64k' : 'bs=1k'], { timeoutMs: 60_000 });
        if (!/No space left on device/.test(r.stderr)) throw new Error(`dd did not fill ${mountPoint}: ${r.stderr}`);
        await must('sync', ['-f', mountPoint]);
        const free = Number((await must('stat', ['-f', '-c', '%a', mountPoint])).trim());
        if (free === 0) return;
      }
      throw new Error(`${mountPoint} still has free blocks after filling`);
    },
    async unfill() {
      for (let round = 0; round < 5; round++) await rm(join(mountPoint, `filler${round}`), { force: true });
      await must('sync', ['-f', mountPoint]);
    },
    async sync() {
      await must('sync', ['-f', mountPoint]);
    },
    async freeze(on) {
      await must('fsfreeze', [on ? '-f' : '-u', mountPoint]);
      frozen = on;
    },
    async immutable(path, on) {
      await must('chattr', ['-R', on ? '+i' : '-i', path]);
    },
    dispose,
  };
}
