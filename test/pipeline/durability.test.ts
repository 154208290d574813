import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/run.js';
import { tempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const writer = fileURLToPath(new URL('./fixtures/ack-writer.mjs', import.meta.url));
let buildDir: string;

// The child runs plain node: compile the SQLite pipeline alone (others' files may not build yet),
// with node_modules linked beside it so that better-sqlite3 resolves.
beforeAll(async () => {
  buildDir = await mkdtemp(path.join(tmpdir(), 'pipeline-build-'));
  await symlink(path.join(repo, 'node_modules'), path.join(buildDir, 'node_modules'), 'dir');
  const result = await run(
    process.execPath,
    [
      path.join(repo, 'node_modules/typescript/bin/tsc'),
      '--outDir', path.join(buildDir, 'out'),
      '--rootDir', path.join(repo, 'src'),
      '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
      '--strict', '--esModuleInterop', '--skipLibCheck', '--types', 'node',
      path.join(repo, 'src/pipeline/sqlite/index.ts'),
    ],
    { cwd: repo },
  );
  expect(result.stdout + result.stderr).toBe('');
});

afterAll(async () => {
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

/** Runs the writer until it has acknowledged `acks` records, then kills it with SIGKILL. */
function runAndKill(dataDir: string, synchronous: string, acks: number): Promise<{ acked: number[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [writer, path.join(buildDir, 'out/pipeline/sqlite/index.js'), dataDir, synchronous],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const acked: number[] = [];
    let partial = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) acked.push(Number(line));
      if (acked.length >= acks && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer ended without being killed: ${stderr}`));
      else resolve({ acked, signal });
    });
  });
}

describe('kill -9 during addInstance', () => {
  for (const synchronous of ['FULL', 'NORMAL']) {
    it(`loses no acknowledged record (synchronous=${synchronous})`, async () => {
      const { dir, remove } = await tempDir();
      try {
        const { acked, signal } = await runAndKill(dir, synchronous, 3_000);
        expect(signal).toBe('SIGKILL');
        expect(acked.length).toBeGreaterThanOrEqual(3_000);

        const db = new Database(path.join(dir, 'bridge.sqlite'));
        const stored = new Set(
          db
            .prepare<[], { record: string }>('SELECT record FROM instance_jobs')
            .all()
            .map((row) => Number((JSON.parse(row.record) as { instance: { sopInstanceUid: string } }).instance.sopInstanceUid.split('.').pop())),
        );
        db.close();
        const lost = acked.filter((n) => !stored.has(n));
        expect(lost).toEqual([]);
      } finally {
        await remove();
      }
    });
  }
});
