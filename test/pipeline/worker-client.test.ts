/**
 * The deadline and stall rules of the SQLite workers' client
 * (worker-client.ts, worker-host.ts), on a real worker thread whose `write`
 * blocks until released, as a write on a frozen disk does (the e2e tests
 * storage-stalled and fhir-index-stalled freeze a real disk).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageStalledError } from '../../src/pipeline/sqlite/storage-health.js';
import { WorkerClient } from '../../src/pipeline/sqlite/worker-client.js';
import { workerScript } from '../../src/pipeline/sqlite/worker-script.js';
import type { BlockingWorkerSettings } from './fixtures/blocking-worker.js';

const TIMEOUT_MS = 300;
let client: WorkerClient<'disk'> | undefined;
let gate: Int32Array | undefined;

function open(): WorkerClient<'disk'> {
  const shared = new SharedArrayBuffer(4);
  gate = new Int32Array(shared);
  client = new WorkerClient<'disk'>({
    name: 'the test worker',
    script: workerScript(import.meta.url, 'fixtures/blocking-worker'),
    settings: { gate: shared } satisfies BlockingWorkerSettings,
    stallTimeoutMs: TIMEOUT_MS,
    stalledError: () => new StorageStalledError(TIMEOUT_MS, 'test.sqlite'),
    logger: pino({ level: 'silent' }),
  });
  return client;
}

function release(): void {
  Atomics.store(gate!, 0, 1);
  Atomics.notify(gate!, 0);
}

afterEach(async () => {
  if (gate) release();
  await client?.close();
  client = undefined;
});

describe('WorkerClient (the SQLite workers’ event-loop side)', () => {
  it('answers a call the worker does not answer in time with the stalled error, refuses calls at once while stalled, and does not run a call whose deadline passed before it began', async () => {
    const worker = open();
    await worker.ready;
    const events: string[] = [];
    const ended: string[] = [];
    worker.watch({
      stalled: () => events.push('stalled'),
      progressed: (since) => {
        events.push('progressed');
        ended.push(since);
      },
    });

    const stuck = worker.call('disk', 'write', ['stuck'], { timeoutMs: TIMEOUT_MS });
    const behind = worker.call('disk', 'read', ['behind'], { timeoutMs: TIMEOUT_MS });
    await expect(stuck).rejects.toThrow('storage stalled: test.sqlite did not answer within 300 ms');
    await expect(behind).rejects.toBeInstanceOf(StorageStalledError);
    expect(worker.isStalled()).toBe(true);
    expect(events).toEqual(['stalled']);
    const since = worker.stallStart();
    expect(since).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Not queued behind the stuck call: refused now, however long its own deadline.
    await expect(worker.call('disk', 'read', ['refused'], { timeoutMs: 60_000 })).rejects.toBeInstanceOf(StorageStalledError);

    release();
    while (worker.isStalled()) await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(['stalled', 'progressed']);
    expect(ended).toEqual([since]);
    expect(worker.stallStart()).toBeUndefined();
    // The stuck call ran to its end; the one behind it, expired before it began, did not run; nor did the refused one.
    expect(await worker.call('disk', 'ran')).toEqual(['stuck']);
    expect(await worker.call('disk', 'read', ['after'], { timeoutMs: TIMEOUT_MS })).toBe('after');
  });

  it('runs calls in the order sent and passes errors back with their message', async () => {
    const worker = open();
    release();
    const answers = await Promise.all(['a', 'b', 'c'].map((name) => worker.call('disk', name === 'b' ? 'write' : 'read', [name])));
    expect(answers).toEqual(['a', 'b', 'c']);
    expect(await worker.call('disk', 'ran')).toEqual(['a', 'b', 'c']);
    await expect(worker.call('disk', 'missing')).rejects.toThrow('blocking test worker: no method disk.missing');
  });
});
