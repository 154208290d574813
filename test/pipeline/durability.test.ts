import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const writer = fileURLToPath(new URL('./fixtures/ack-writer.mjs', import.meta.url));

// The child runs plain node on the compiled pipeline (npm test builds dist/ first).
const compiled = path.join(repo, 'dist/pipeline/sqlite/index.js');

beforeAll(() => {
  expect(existsSync(compiled), 'dist/ is missing: run npm run build (npm test does)').toBe(true);
});

/** Runs the writer until it has acknowledged `acks` records, then kills it with SIGKILL. */
function runAndKill(dataDir: string, synchronous: string, acks: number): Promise<{ acked: number[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [writer, compiled, dataDir, synchronous],
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
