import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../../src/dicom/instance-record.js';
import type { Pipeline } from '../../../src/pipeline/pipeline.js';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { openRedisPipeline } from '../../../src/pipeline/redis/index.js';
import { INSTANCE_STREAM_GROUP, INSTANCES_QUEUE, instanceStreamKeys } from '../../../src/pipeline/redis/keys.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { deferred, makeRecord, silentLogger } from '../helpers.js';
import { sleep, waitFor } from './wait.js';

let server: TestRedis;
const opened: Pipeline[] = [];
let n = 0;

async function open(prefix: string): Promise<Pipeline> {
  const pipeline = await openRedisPipeline({ url: server.url, prefix, logger: silentLogger });
  opened.push(pipeline);
  await waitFor(() => pipeline.isHealthy(), 10_000, 'redis connection ready');
  return pipeline;
}

/** A fresh prefix per test, so queues and keys of tests do not meet. */
const freshPrefix = (): string => `q${++n}`;

beforeAll(async () => {
  server = await startRedis({ appendfsync: 'no' });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await server?.stop();
});

describe('instances queue', () => {
  it('keeps jobs added with no worker running and hands them to a worker of a new queue object', async () => {
    const prefix = freshPrefix();
    const producer = await open(prefix);
    for (let i = 0; i < 25; i += 1) await producer.queue.addInstance(makeRecord({ sop: `I${i}` }));
    expect((await producer.queue.depth()).instances).toBe(25);
    await producer.close();

    const consumer = await open(prefix);
    const received: string[] = [];
    const batchSizes: number[] = [];
    consumer.queue.processInstances(async (records: InstanceRecord[]) => {
      batchSizes.push(records.length);
      received.push(...records.map((r) => r.instance.sopInstanceUid));
    });
    await waitFor(() => received.length >= 25, 15_000, 'all records handled');
    expect(received.slice().sort()).toEqual(Array.from({ length: 25 }, (_, i) => `I${i}`).sort());
    await waitFor(async () => (await consumer.queue.depth()).instances === 0, 10_000, 'queue drained');
    expect(batchSizes.length).toBeGreaterThan(0);
  });

  it('hands out a rejected batch again; records leave the queue only after the handler resolves', async () => {
    const prefix = freshPrefix();
    const pipeline = await openRedisPipeline({
      url: server.url,
      prefix,
      logger: silentLogger,
      queue: { instanceRetryDelayMs: 50 },
    });
    opened.push(pipeline);
    await waitFor(() => pipeline.isHealthy());
    for (let i = 0; i < 5; i += 1) await pipeline.queue.addInstance(makeRecord({ sop: `I${i}` }));
    let calls = 0;
    const accepted = new Set<string>();
    pipeline.queue.processInstances(async (records) => {
      calls += 1;
      if (calls === 1) throw new Error('store down');
      for (const r of records) accepted.add(r.instance.sopInstanceUid);
    });
    await waitFor(() => accepted.size === 5, 15_000, 'every record accepted');
    expect(calls).toBeGreaterThan(1);
    await waitFor(async () => (await pipeline.queue.depth()).instances === 0, 10_000, 'queue drained');
  });

  it('batches the jobs it holds: a burst is handed out in fewer calls than records', async () => {
    const prefix = freshPrefix();
    const pipeline = await open(prefix);
    await Promise.all(Array.from({ length: 200 }, (_, i) => pipeline.queue.addInstance(makeRecord({ sop: `I${i}` }))));
    const sizes: number[] = [];
    pipeline.queue.processInstances(async (records) => {
      sizes.push(records.length);
    });
    await waitFor(() => sizes.reduce((a, b) => a + b, 0) >= 200, 15_000, 'all records handled');
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200);
    expect(sizes.length).toBeLessThan(200);
  });
});

describe('instances stream: a worker that dies', () => {
  it('leaves the records it read pending; another worker takes them after the lock duration and acknowledges them', async () => {
    const prefix = freshPrefix();
    const pipeline = await openRedisPipeline({ url: server.url, prefix, logger: silentLogger, queue: { lockDurationMs: 300 } });
    opened.push(pipeline);
    await waitFor(() => pipeline.isHealthy());
    for (let i = 0; i < 5; i += 1) await pipeline.queue.addInstance(makeRecord({ sop: `I${i}` }));
    // A worker of another process reads the records, then dies before acknowledging them.
    const keys = instanceStreamKeys(prefix);
    const dead = new Redis(server.url);
    try {
      await dead.xgroup('CREATE', keys.records, INSTANCE_STREAM_GROUP, '0', 'MKSTREAM');
      const read = (await dead.call('XREADGROUP', 'GROUP', INSTANCE_STREAM_GROUP, 'dead-worker', 'COUNT', 10, 'STREAMS', keys.records, '>')) as unknown[];
      expect(JSON.stringify(read)).toContain('I4');
    } finally {
      dead.disconnect();
    }
    const received: string[] = [];
    pipeline.queue.processInstances(async (records) => {
      received.push(...records.map((r) => r.instance.sopInstanceUid));
    });
    await waitFor(() => received.length >= 5, 15_000, 'the dead worker\'s records handled');
    expect(received.slice().sort()).toEqual(['I0', 'I1', 'I2', 'I3', 'I4']);
    await waitFor(async () => (await pipeline.queue.depth()).instances === 0, 10_000, 'acknowledged and deleted');
  });
});

describe('instances queue of an earlier version (BullMQ)', () => {
  it('is drained: its jobs reach the handler beside the stream\'s records', async () => {
    const prefix = freshPrefix();
    const legacy = new Queue(INSTANCES_QUEUE, { connection: { host: '127.0.0.1', port: server.port }, prefix });
    try {
      for (let i = 0; i < 3; i += 1) await legacy.add('instance', makeRecord({ sop: `old${i}` }), { removeOnComplete: true });
    } finally {
      await legacy.close();
    }
    const pipeline = await open(prefix);
    await pipeline.queue.addInstance(makeRecord({ sop: 'new' }));
    expect((await pipeline.queue.depth()).instances).toBe(4);
    const received: string[] = [];
    pipeline.queue.processInstances(async (records) => {
      received.push(...records.map((r) => r.instance.sopInstanceUid));
    });
    await waitFor(() => received.length >= 4, 15_000, 'old and new records handled');
    expect(received.slice().sort()).toEqual(['new', 'old0', 'old1', 'old2']);
    await waitFor(async () => (await pipeline.queue.depth()).instances === 0, 10_000, 'both drained');
  });
});

describe('publish queue', () => {
  it('debounces: many requests for one study within the debounce give one publish', async () => {
    const pipeline = await open(freshPrefix());
    const calls: string[] = [];
    pipeline.queue.processPublishes(async (uid) => {
      calls.push(uid);
    });
    const schedule = { debounceMs: 300, maxDelayMs: 60_000 };
    for (let i = 0; i < 30; i += 1) await pipeline.queue.schedulePublish('1.2.3', schedule);
    await pipeline.queue.schedulePublish('4.5.6', schedule);
    await waitFor(() => calls.length >= 2, 10_000, 'both studies published');
    await sleep(1500);
    expect(calls.filter((u) => u === '1.2.3')).toHaveLength(1);
    expect(calls.filter((u) => u === '4.5.6')).toHaveLength(1);
    expect((await pipeline.queue.depth()).publishes).toBe(0);
  });

  it('caps the delay: requests that keep coming more often than the debounce still publish within maxDelayMs', async () => {
    const pipeline = await open(freshPrefix());
    let scheduling = true;
    let publishedWhileScheduling = 0;
    pipeline.queue.processPublishes(async () => {
      if (scheduling) publishedWhileScheduling += 1;
    });
    const schedule = { debounceMs: 400, maxDelayMs: 1000 };
    const stopAt = Date.now() + 3500;
    while (Date.now() < stopAt) {
      await pipeline.queue.schedulePublish('1.2.3', schedule);
      await sleep(100);
    }
    scheduling = false;
    expect(publishedWhileScheduling).toBeGreaterThanOrEqual(1);
  });

  it('runs at most one publish of a study at a time; a request during a publish runs once after it', async () => {
    const pipeline = await open(freshPrefix());
    const events: string[] = [];
    const firstRelease = deferred();
    let calls = 0;
    pipeline.queue.processPublishes(async (uid) => {
      calls += 1;
      const call = calls;
      events.push(`start${call}:${uid}`);
      if (call === 1) await firstRelease.promise;
      events.push(`end${call}:${uid}`);
    });
    const schedule = { debounceMs: 50, maxDelayMs: 60_000 };
    try {
      await pipeline.queue.schedulePublish('1.2.3', schedule);
      await waitFor(() => calls === 1, 10_000, 'first publish started');
      await pipeline.queue.schedulePublish('1.2.3', schedule);
      await pipeline.queue.schedulePublish('1.2.3', schedule);
      await sleep(1000);
      expect(calls).toBe(1);
    } finally {
      firstRelease.resolve();
    }
    await waitFor(() => calls === 2 && events.length === 4, 10_000, 'second publish done');
    await sleep(1000);
    expect(events).toEqual(['start1:1.2.3', 'end1:1.2.3', 'start2:1.2.3', 'end2:1.2.3']);
  });

  it('retries a rejected publish after retryDelayMs(attempt)', async () => {
    const pipeline = await open(freshPrefix());
    const attempts: number[] = [];
    let calls = 0;
    pipeline.queue.processPublishes(
      async () => {
        calls += 1;
        if (calls <= 2) throw new Error('HTTP 503');
      },
      {
        retryDelayMs: (attempt) => {
          attempts.push(attempt);
          return 100;
        },
      },
    );
    await pipeline.queue.schedulePublish('1.2.3', { debounceMs: 10, maxDelayMs: 1000 });
    await waitFor(() => calls === 3, 15_000, 'third attempt');
    expect(attempts).toEqual([1, 2]);
    await waitFor(async () => (await pipeline.queue.depth()).publishes === 0, 10_000, 'publish queue drained');
  });
});
