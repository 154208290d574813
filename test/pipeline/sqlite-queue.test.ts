import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { openSqliteParts, SCHEMA_VERSION, type SqliteParts } from '../../src/pipeline/sqlite/index.js';
import { deferred, type Deferred, makeRecord, manualClock, silentLogger, tempDir } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;
const open: SqliteParts[] = [];

function openPipeline(options: Partial<Parameters<typeof openSqliteParts>[0]> = {}): SqliteParts {
  const pipeline = openSqliteParts({ dataDir: dir, logger: silentLogger, ...options });
  open.push(pipeline);
  return pipeline;
}

beforeEach(async () => {
  ({ dir, remove } = await tempDir());
});

afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  await remove();
});

describe('schema', () => {
  it('creates bridge.sqlite in WAL mode with the current user_version, and reopens it', async () => {
    const first = openPipeline();
    await first.close();
    // Reopened, then closed: the open store holds the file exclusively (database.ts).
    await openPipeline().close();
    const db = new Database(path.join(dir, 'bridge.sqlite'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('refuses a database from a newer bridge', async () => {
    const db = new Database(path.join(dir, 'bridge.sqlite'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openPipeline()).toThrow(/newer than this bridge knows/);
  });
});

describe('addInstance (group commit)', () => {
  it('commits concurrent records in fewer transactions than records, all durable when resolved', async () => {
    const { queue } = openPipeline();
    await Promise.all(Array.from({ length: 300 }, (_, i) => queue.addInstance(makeRecord({ sop: `1.9.${i}` }))));
    const stats = queue.stats();
    expect(stats.records).toBe(300);
    expect(stats.commits).toBeLessThan(300);
    expect(stats.largestCommit).toBeGreaterThan(1);
    expect((await queue.depth()).instances).toBe(300);
  });

  it('commits records added one after another each in its own transaction', async () => {
    const { queue } = openPipeline();
    for (let i = 0; i < 3; i++) await queue.addInstance(makeRecord({ sop: `1.9.${i}` }));
    expect(queue.stats()).toEqual({ commits: 3, records: 3, largestCommit: 1 });
  });

  it('rejects after close', async () => {
    const { queue } = openPipeline();
    await queue.close();
    await expect(queue.addInstance(makeRecord({ sop: '1.9.1' }))).rejects.toThrow(/closed/);
  });
});

describe('processInstances', () => {
  it('hands out batches of at most 500 in insertion order and deletes them after the handler resolves', async () => {
    const { queue } = openPipeline();
    await Promise.all(Array.from({ length: 1200 }, (_, i) => queue.addInstance(makeRecord({ sop: `1.9.${i}` }))));
    const batches: string[][] = [];
    queue.processInstances(async (batch) => {
      batches.push(batch.map((r) => r.instance.sopInstanceUid));
    });
    await vi.waitFor(async () => expect((await queue.depth()).instances).toBe(0));
    expect(batches.map((b) => b.length)).toEqual([500, 500, 200]);
    expect(batches.flat()).toEqual(Array.from({ length: 1200 }, (_, i) => `1.9.${i}`));
  });

  it('wakes on a new commit without waiting for the fallback poll', async () => {
    const { queue } = openPipeline({ queue: { pollIntervalMs: 600_000 } });
    const seen = deferred<InstanceRecord[]>();
    queue.processInstances(async (batch) => seen.resolve(batch));
    // Let the loop find the queue empty and wait.
    await new Promise((resolve) => setImmediate(resolve));
    await queue.addInstance(makeRecord({ sop: '1.9.1' }));
    const batch = await seen.promise;
    expect(batch.map((r) => r.instance.sopInstanceUid)).toEqual(['1.9.1']);
  });

  it('hands a rejected batch out again, whole', async () => {
    const { queue } = openPipeline({ queue: { instanceRetryDelayMs: 1 } });
    await Promise.all([1, 2, 3].map((i) => queue.addInstance(makeRecord({ sop: `1.9.${i}` }))));
    const calls: string[][] = [];
    queue.processInstances(async (batch) => {
      calls.push(batch.map((r) => r.instance.sopInstanceUid));
      if (calls.length === 1) throw new Error('store down');
    });
    await vi.waitFor(async () => expect((await queue.depth()).instances).toBe(0));
    expect(calls).toEqual([
      ['1.9.1', '1.9.2', '1.9.3'],
      ['1.9.1', '1.9.2', '1.9.3'],
    ]);
  });

  it('hands out again, after a restart, records that were committed but not processed', async () => {
    const first = openPipeline();
    await Promise.all([1, 2, 3].map((i) => first.queue.addInstance(makeRecord({ sop: `1.9.${i}` }))));
    await first.close();

    const second = openPipeline();
    const seen: string[] = [];
    second.queue.processInstances(async (batch) => {
      seen.push(...batch.map((r) => r.instance.sopInstanceUid));
    });
    await vi.waitFor(() => expect(seen).toEqual(['1.9.1', '1.9.2', '1.9.3']));
  });

  it('close waits for the running batch and leaves an unfinished one queued', async () => {
    const parts = openPipeline();
    const { queue } = parts;
    await queue.addInstance(makeRecord({ sop: '1.9.1' }));
    const started = deferred();
    const release = deferred();
    queue.processInstances(async () => {
      started.resolve();
      await release.promise;
      throw new Error('interrupted');
    });
    await started.promise;
    const closing = queue.close();
    release.resolve();
    await closing;
    // The store too: the open store holds the file exclusively (database.ts).
    await parts.close();
    const db = new Database(path.join(dir, 'bridge.sqlite'), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM instance_jobs').get()).toEqual({ n: 1 });
    db.close();
  });
});

describe('schedulePublish (due times, injected clock)', () => {
  const schedule = { debounceMs: 100, maxDelayMs: 1_000 };

  it('debounces: due = now + debounceMs, pushed back by each request', async () => {
    const clock = manualClock(10_000);
    const { queue } = openPipeline({ now: clock.now });
    await queue.schedulePublish('1.2.3', schedule);
    expect(await queue.publishRow('1.2.3')).toEqual({ studyInstanceUid: '1.2.3', dueAt: 10_100, firstRequestedAt: 10_000, attempts: 0 });
    clock.advance(50);
    await queue.schedulePublish('1.2.3', schedule);
    expect(await queue.publishRow('1.2.3')).toMatchObject({ dueAt: 10_150, firstRequestedAt: 10_000 });
  });

  it('caps the delay at firstRequestedAt + maxDelayMs while requests keep arriving, one row per study', async () => {
    const clock = manualClock(10_000);
    const { queue } = openPipeline({ now: clock.now });
    for (let t = 0; t <= 2_000; t += 50) {
      clock.set(10_000 + t);
      await queue.schedulePublish('1.2.3', schedule);
    }
    expect(await queue.publishRow('1.2.3')).toMatchObject({ dueAt: 11_000, firstRequestedAt: 10_000 });
    await queue.schedulePublish('1.2.4', schedule);
    expect(await queue.depth()).toEqual({ instances: 0, publishes: 2 });
  });

  it('does not cut short the backoff of a failed publish when new data arrives', async () => {
    const clock = manualClock(10_000);
    const { queue } = openPipeline({ now: clock.now });
    const failed = deferred();
    let calls = 0;
    queue.processPublishes(
      async () => {
        calls++;
        failed.resolve();
        throw new Error('503');
      },
      { retryDelayMs: () => 5_000 },
    );
    await queue.schedulePublish('1.2.3', { debounceMs: 0, maxDelayMs: 0 });
    await failed.promise;
    await vi.waitFor(async () => expect(await queue.publishRow('1.2.3')).toMatchObject({ attempts: 1, dueAt: 15_000 }));
    clock.advance(10);
    await queue.schedulePublish('1.2.3', schedule);
    expect(await queue.publishRow('1.2.3')).toMatchObject({ attempts: 1, dueAt: 15_000 });
    expect(calls).toBe(1);
  });

  it('honours a Retry-After longer than the backoff', async () => {
    const clock = manualClock(10_000);
    const { queue } = openPipeline({ now: clock.now });
    const failed = deferred();
    queue.processPublishes(
      async () => {
        failed.resolve();
        throw Object.assign(new Error('429'), { retryAfterMs: 120_000 });
      },
      { retryDelayMs: () => 1_000 },
    );
    await queue.schedulePublish('1.2.3', { debounceMs: 0, maxDelayMs: 0 });
    await failed.promise;
    await vi.waitFor(async () => expect(await queue.publishRow('1.2.3')).toMatchObject({ attempts: 1, dueAt: 130_000 }));
  });
});

describe('processPublishes', () => {
  const now = { debounceMs: 0, maxDelayMs: 0 };

  it('runs at most one publish per study, other studies alongside; a request during a run publishes again', async () => {
    const { queue } = openPipeline();
    const gates = new Map<string, Deferred[]>();
    const started: string[] = [];
    let runningA = 0;
    let maxRunningA = 0;
    queue.processPublishes(async (uid) => {
      started.push(uid);
      const gate = deferred<void>();
      gates.set(uid, [...(gates.get(uid) ?? []), gate]);
      if (uid === 'A') maxRunningA = Math.max(maxRunningA, ++runningA);
      try {
        await gate.promise;
      } finally {
        if (uid === 'A') runningA--;
      }
    });
    await queue.schedulePublish('A', now);
    await vi.waitFor(() => expect(started).toEqual(['A']));
    await queue.schedulePublish('A', now); // arrives while A runs
    await queue.schedulePublish('B', now);
    await vi.waitFor(() => expect(started).toEqual(['A', 'B']));
    expect(await queue.publishRow('A')).toBeDefined();

    gates.get('A')![0]!.resolve();
    await vi.waitFor(() => expect(started).toEqual(['A', 'B', 'A']));
    gates.get('A')![1]!.resolve();
    gates.get('B')![0]!.resolve();
    await vi.waitFor(async () => expect((await queue.depth()).publishes).toBe(0));
    expect(started).toEqual(['A', 'B', 'A']);
    expect(maxRunningA).toBe(1);
  });

  it('bounds the publishes running at once', async () => {
    const { queue } = openPipeline({ queue: { publishConcurrency: 2 } });
    const release = deferred();
    let running = 0;
    let maxRunning = 0;
    let done = 0;
    queue.processPublishes(async () => {
      maxRunning = Math.max(maxRunning, ++running);
      await release.promise;
      running--;
      done++;
    });
    for (const uid of ['S1', 'S2', 'S3', 'S4', 'S5']) await queue.schedulePublish(uid, now);
    await vi.waitFor(() => expect(running).toBe(2));
    release.resolve();
    await vi.waitFor(() => expect(done).toBe(5));
    expect(maxRunning).toBe(2);
  });

  it('retries a rejected publish with attempts counted, then removes the row on success', async () => {
    const { queue } = openPipeline();
    const attemptsSeen: number[] = [];
    let calls = 0;
    queue.processPublishes(
      async () => {
        calls++;
        if (calls < 3) throw new Error('server down');
      },
      {
        retryDelayMs: (attempt) => {
          attemptsSeen.push(attempt);
          return 1;
        },
      },
    );
    await queue.schedulePublish('1.2.3', now);
    await vi.waitFor(async () => expect((await queue.depth()).publishes).toBe(0));
    expect(calls).toBe(3);
    expect(attemptsSeen).toEqual([1, 2]);
  });

  it('fires publishes left pending by a previous run', async () => {
    const first = openPipeline();
    await first.queue.schedulePublish('1.2.3', now);
    await first.close();
    const second = openPipeline();
    const fired = deferred<string>();
    second.queue.processPublishes(async (uid) => fired.resolve(uid));
    expect(await fired.promise).toBe('1.2.3');
  });
});
