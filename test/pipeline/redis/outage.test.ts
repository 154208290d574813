import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../src/pipeline/pipeline.js';
import { openRedisPipeline } from '../../../src/pipeline/redis/index.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { makeRecord, silentLogger } from '../helpers.js';
import { waitFor } from './wait.js';

// appendfsync always (the startRedis default): a write acknowledged before a kill -9 is on disk.
let server: TestRedis | undefined;
const opened: Pipeline[] = [];

afterAll(async () => {
  await Promise.all(opened.map((p) => p.close()));
  await server?.stop();
});

describe('Redis outage', () => {
  it('rejects while Redis is down, reports unhealthy, and recovers with acknowledged data intact', async () => {
    server = await startRedis();
    const pipeline = await openRedisPipeline({ url: server.url, logger: silentLogger });
    opened.push(pipeline);
    await waitFor(() => pipeline.isHealthy(), 10_000, 'healthy');

    const acknowledged = Array.from({ length: 20 }, (_, i) => makeRecord({ sop: `I${i}` }));
    for (const record of acknowledged) await pipeline.queue.addInstance(record);
    expect(await pipeline.store.mergeInstances(acknowledged.slice(0, 10))).toEqual(['1.2.3']);

    process.kill(server.pid, 'SIGKILL');
    await waitFor(() => !pipeline.isHealthy(), 10_000, 'unhealthy after kill');
    await expect(pipeline.queue.addInstance(makeRecord({ sop: 'late' }))).rejects.toThrow();
    await expect(pipeline.queue.schedulePublish('1.2.3', { debounceMs: 10, maxDelayMs: 100 })).rejects.toThrow();
    expect(pipeline.isHealthy()).toBe(false);

    // A process started while Redis is down does not crash and is not ready either.
    const lateStarter = await openRedisPipeline({ url: server.url, logger: silentLogger });
    opened.push(lateStarter);
    expect(lateStarter.isHealthy()).toBe(false);
    await expect(lateStarter.queue.addInstance(makeRecord({ sop: 'late' }))).rejects.toThrow();

    await server.restart();
    await waitFor(() => pipeline.isHealthy() && lateStarter.isHealthy(), 20_000, 'healthy again');

    expect((await pipeline.queue.depth()).instances).toBe(20);
    expect(await pipeline.store.getSummary('1.2.3')).toMatchObject({ numberOfInstances: 10, publish: { state: 'pending' } });

    const received = new Set<string>();
    lateStarter.queue.processInstances(async (records) => {
      for (const r of records) received.add(r.instance.sopInstanceUid);
    });
    await lateStarter.queue.addInstance(makeRecord({ sop: 'after' }));
    await waitFor(() => received.size === 21, 20_000, 'every acknowledged record handled');
    expect(received.has('late')).toBe(false);
    expect([...received].sort()).toEqual([...acknowledged.map((r) => r.instance.sopInstanceUid), 'after'].sort());
  });

  it('logs the errors of the worker connections, like those of the command connection: one warn line per 10 s, no stack', async () => {
    const redis = await startRedis({ appendfsync: 'no' });
    const lines: { level: number; msg: string; err?: unknown }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, cb) {
          for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
          cb();
        },
      }),
    );
    const pipeline = await openRedisPipeline({ url: redis.url, prefix: 'workers', logger });
    try {
      pipeline.queue.processInstances(async () => undefined);
      await waitFor(() => pipeline.isHealthy(), 10_000, 'healthy');
      await pipeline.queue.addInstance(makeRecord({ sop: 'I1' }));
      await waitFor(async () => (await pipeline.queue.depth()).instances === 0, 10_000, 'worker running');

      process.kill(redis.pid, 'SIGKILL');
      // Both connections keep reconnecting (every 100 ms to 2 s) and fail each time; within 8 s one line each.
      const of = (msg: string) => lines.filter((l) => l.msg === msg);
      await waitFor(() => of('redis worker connection error').length > 0 && of('redis connection error').length > 0, 8_000, 'both logged');
      for (const msg of ['redis worker connection error', 'redis connection error']) {
        expect(of(msg)).toHaveLength(1);
        expect(of(msg)[0]).toMatchObject({ level: 40, err: expect.any(String) });
      }
    } finally {
      // Closing waits for the workers, which need their Redis back.
      await redis.restart();
      await waitFor(() => pipeline.isHealthy(), 20_000, 'healthy again');
      await pipeline.close();
      await redis.stop();
    }
  });
});
