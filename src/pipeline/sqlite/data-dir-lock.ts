/**
 * One bridge per DATA_DIR. Two bridges on one embedded store would both
 * take instances and publish the same studies, each unaware of the other.
 *
 * The directory is checked first (an existing directory, or one that can be
 * created; on a real filesystem; writable), with the reason when it is not:
 * Node's recursive mkdir spins forever under /proc, so missing parts are
 * created one at a time.
 *
 * The lock is an exclusive SQLite lock (POSIX advisory locks, which the
 * kernel drops when the process dies, kill -9 included) held on
 * `bridge.lock` until release; `bridge.lock.json` names the holder (PID,
 * host, since when) for the refusal message of the next one.
 */
import { errorMessage } from '../../errors.js';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

/** DATA_DIR cannot hold the store, or another bridge holds it. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export interface DataDirLock {
  /** Absolute path of the directory. */
  dir: string;
  release(): void;
}

/** statfs f_type of filesystems that hold no data: proc, sysfs, devpts, cgroup(2), debugfs, tracefs, securityfs, bpf, configfs, pstore, efivarfs. */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
]);

const LOCK_FILE = 'bridge.lock';
const HOLDER_FILE = 'bridge.lock.json';

const codeOf = (err: unknown): string => (err as NodeJS.ErrnoException)?.code ?? String(err);

function pseudoFilesystem(dir: string): string | undefined {
  try {
    return PSEUDO_FILESYSTEMS.get(Number(statfsSync(dir).type));
  } catch {
    return undefined;
  }
}

/** Creates DATA_DIR if needed and checks it can hold the store; returns its absolute path. */
export function prepareDataDir(dataDir: string): string {
  const dir = path.resolve(dataDir);
  const fail = (reason: string): never => {
    throw new DataDirError(`DATA_DIR ${dataDir}: ${reason}`);
  };
  // The nearest part that exists, then the missing ones below it, one at a time.
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    try {
      if (!statSync(existing).isDirectory()) fail(`${existing} is not a directory`);
      break;
    } catch (err) {
      if (err instanceof DataDirError) throw err;
      // ENOTDIR: a file on the way; the walk up finds it and says so.
      if (codeOf(err) !== 'ENOENT' && codeOf(err) !== 'ENOTDIR') fail(`${existing} cannot be read (${codeOf(err)})`);
      missing.unshift(existing);
      const parent = path.dirname(existing);
      if (parent === existing) fail('no part of the path exists');
      existing = parent;
    }
  }
  const pseudo = pseudoFilesystem(existing);
  if (pseudo) fail(`${existing} is on a ${pseudo} filesystem, not storage: choose a directory on a disk`);
  for (const part of missing) {
    try {
      mkdirSync(part);
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') fail(`cannot create ${part} (${codeOf(err)})`);
    }
  }
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    fail(`not writable (${codeOf(err)})`);
  }
  return dir;
}

function holderOf(dir: string): string {
  try {
    const holder = JSON.parse(readFileSync(path.join(dir, HOLDER_FILE), 'utf8')) as { pid?: number; host?: string; since?: string };
    return `PID ${holder.pid ?? 'unknown'} on ${holder.host ?? 'an unknown host'}, since ${holder.since ?? 'an unknown time'}`;
  } catch {
    return 'PID unknown';
  }
}

/** Takes DATA_DIR for this process (prepareDataDir first); throws DataDirError when another bridge holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = prepareDataDir(dataDir);
  let db: Database.Database;
  try {
    db = new Database(path.join(dir, LOCK_FILE), { timeout: 0 });
  } catch (err) {
    throw new DataDirError(`DATA_DIR ${dataDir}: cannot create ${LOCK_FILE} (${codeOf(err)}: ${errorMessage(err)})`);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE'); // held until release: never committed
  } catch (err) {
    db.close();
    if (codeOf(err) === 'SQLITE_BUSY') {
      throw new DataDirError(
        `DATA_DIR ${dir} is in use by another dicom-fhir-bridge (${holderOf(dir)}): one DATA_DIR serves one bridge; stop that one or give this one its own DATA_DIR`,
      );
    }
    throw new DataDirError(`DATA_DIR ${dataDir}: cannot lock ${LOCK_FILE} (${codeOf(err)}: ${errorMessage(err)})`);
  }
  const holderFile = path.join(dir, HOLDER_FILE);
  try {
    writeFileSync(holderFile, `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`);
  } catch (err) {
    db.close();
    throw new DataDirError(`DATA_DIR ${dataDir}: not writable (${codeOf(err)})`);
  }
  let held = true;
  return {
    dir,
    release() {
      if (!held) return;
      held = false;
      rmSync(holderFile, { force: true });
      db.close();
    },
  };
}
