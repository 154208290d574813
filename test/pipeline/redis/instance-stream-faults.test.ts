/**
 * The instances stream against its two known faults, on a real redis-server:
 * a poison entry (unreadable, or one the merge keeps failing on) is moved to
 * the dead-letter stream after MAX_DELIVERIES and the rest of its batch is
 * merged; consumers of stopped processes are removed, never one that holds
 * pending entries.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../../src/dicom/instance-record.js';
import { HttpAccess } from '../../../src/http/access.js';
import { BridgeMetrics } from '../../../src/http/metrics.js';
import { createHttpServer } from '../../../src/http/server.js';
import type { Pipeline } from '../../../src/pipeline/pipeline.js';
import { removeIdleConsumers } from '../../../src/pipeline/redis/idle-consumers.js';
import { openRedisPipeline } from '../../../src/pipeline/redis/index.js';
import { MAX_DELIVERIES } from '../../../src/pipeline/redis/instance-dead-letters.js';
import { INSTANCE_STREAM_GROUP, instanceStreamKeys } from '../../../src/pipeline/redis/keys.js';
import { loadLuaScript, runLuaScript } from '../../../src/pipeline/redis/lua-script.js';
import { isRedisOutage } from '../../../src/pipeline/redis/redis-outage.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { makeRecord, silentLogger } from '../helpers.js';
import { sleep, waitFor } from './wait.js';

const REQUEUE = loadLuaScript(new URL('../../../src/pipeline/redis/lua/', import.meta.url), 'requeue-dead-letters-2.lua');
const STUDY = '1.2.3';
/** In makeRecord's patient: must never reach a log line. */
const PATIENT_NAME = 'Doe^Jane';

let server: TestRedis;
let admin: Redis;
const opened: Pipeline[] = [];
const servers: Server[] = [];
let n = 0;
const freshPrefix = (): string => `f${++n}`;

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as LogLine);
        cb();
      },
    }),
  );
  return { logger, lines };
}

/** A short lock: a failed entry is claimed again after 200 ms idle, so MAX_DELIVERIES take about a second. */
async function open(prefix: string, logger: pino.Logger = silentLogger): Promise<Pipeline> {
  const pipeline = await openRedisPipeline({
    url: server.url,
    prefix,
    logger,
    queue: { lockDurationMs: 200, instanceRetryDelayMs: 10, batchWindowMs: 50 },
  });
  opened.push(pipeline);
  await waitFor(() => pipeline.isHealthy(), 10_000, 'redis connection ready');
  return pipeline;
}

async function deadLetterEntries(prefix: string): Promise<Record<string, string>[]> {
  const entries = (await admin.xrange(instanceStreamKeys(prefix).deadLetters, '-', '+')) as [string, string[]][];
  return entries.map(([, fields]) => {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
    return out;
  });
}

async function consumerNames(prefix: string): Promise<string[]> {
  const reply = (await admin.xinfo('CONSUMERS', instanceStreamKeys(prefix).records, INSTANCE_STREAM_GROUP)) as string[][];
  return reply.map((c) => c[c.indexOf('name') + 1]!).sort();
}

/**
 * A group on a fresh stream with one record, held (read, not acknowledged) by `holder`, and consumers
 * `idle` that hold nothing; returns the stream's keys.
 */
async function groupWithConsumers(prefix: string, holder: string, idle: string[]): Promise<ReturnType<typeof instanceStreamKeys>> {
  const keys = instanceStreamKeys(prefix);
  await admin.xgroup('CREATE', keys.records, INSTANCE_STREAM_GROUP, '0', 'MKSTREAM');
  await admin.xadd(keys.records, '*', 'r', JSON.stringify(makeRecord({ sop: 'held' })));
  for (const name of idle) await admin.call('XGROUP', 'CREATECONSUMER', keys.records, INSTANCE_STREAM_GROUP, name);
  await admin.call('XREADGROUP', 'GROUP', INSTANCE_STREAM_GROUP, holder, 'COUNT', 1, 'STREAMS', keys.records, '>');
  return keys;
}

async function numberOfInstances(pipeline: Pipeline): Promise<number> {
  return (await pipeline.store.getSummary(STUDY))?.numberOfInstances ?? 0;
}

/** GET /status and /metrics of an HTTP server on the pipeline, as the bridge serves them. */
async function operatorView(pipeline: Pipeline): Promise<{ status: { queue: Record<string, number> }; metrics: string }> {
  const http = createHttpServer({
    store: pipeline.store,
    queue: pipeline.queue,
    isReady: () => true,
    logger: silentLogger,
    fhirTarget: undefined,
    metrics: new BridgeMetrics(pipeline.queue, pipeline.store).registry,
    schedule: { debounceMs: 50, maxDelayMs: 500 },
    access: new HttpAccess({ host: '127.0.0.1' }),
  });
  servers.push(http);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const status = (await (await fetch(`${base}/status`)).json()) as { queue: Record<string, number> };
  const metrics = await (await fetch(`${base}/metrics`)).text();
  return { status, metrics };
}

beforeAll(async () => {
  server = await startRedis({ appendfsync: 'no' });
  admin = new Redis(server.url);
});

afterEach(async () => {
  for (const http of servers.splice(0)) {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  }
  await Promise.all(opened.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

describe('instances stream: a poison entry', () => {
  it('an unreadable entry among good ones: the good ones are merged, it is dead-lettered whole after MAX_DELIVERIES, with one error line', async () => {
    const prefix = freshPrefix();
    const keys = instanceStreamKeys(prefix);
    const { logger, lines } = capturingLogger();
    const pipeline = await open(prefix, logger);
    await pipeline.queue.addInstance(makeRecord({ sop: 'G1' }));
    await pipeline.queue.addInstance(makeRecord({ sop: 'G2' }));
    // Cut short in the middle of the patient: JSON.parse's message would quote the name.
    const poison = `{"patient":{"patientName":{"alphabetic":"${PATIENT_NAME}"`;
    const poisonId = (await admin.xadd(keys.records, '*', 'r', poison))!;
    await pipeline.queue.addInstance(makeRecord({ sop: 'G3' }));
    await pipeline.queue.addInstance(makeRecord({ sop: 'G4' }));

    pipeline.queue.processInstances(async (records) => {
      await pipeline.store.mergeInstances(records);
    });
    await waitFor(async () => (await pipeline.queue.depth()).deadLetters === 1, 20_000, 'the poison entry dead-lettered');

    expect(await numberOfInstances(pipeline)).toBe(4);
    expect(await admin.xlen(keys.records)).toBe(0);
    const [dead] = await deadLetterEntries(prefix);
    expect(dead).toMatchObject({ 'entry-id': poisonId, reason: 'record is not valid JSON', deliveries: String(MAX_DELIVERIES), r: poison });
    const moved = lines.filter((l) => l.msg === 'instance record moved to the dead-letter stream');
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatchObject({ level: 50, entryId: poisonId, reason: 'record is not valid JSON', deliveries: MAX_DELIVERIES });
    // The deliveries before: one warn line each.
    expect(lines.filter((l) => l.msg === 'instance record failed; handed out again after the lock duration')).toHaveLength(MAX_DELIVERIES - 1);
    expect(JSON.stringify(lines)).not.toContain(PATIENT_NAME);

    const view = await operatorView(pipeline);
    expect(view.status.queue).toEqual({ instances: 0, publishes: expect.any(Number), deadLetters: 1 });
    expect(view.metrics).toMatch(/^dfb_instance_dead_letters 1$/m);
  });

  it('a record the merge fails on: its batch is merged one record at a time, it is dead-lettered, and a restart does not bring it back', async () => {
    const prefix = freshPrefix();
    const keys = instanceStreamKeys(prefix);
    const { logger, lines } = capturingLogger();
    const first = await open(prefix, logger);
    const records = ['G1', 'G2', 'G3', 'BAD', 'G4', 'G5', 'G6'].map((sop) => makeRecord({ sop }));
    await Promise.all(records.map((r) => first.queue.addInstance(r)));

    const batches: string[][] = [];
    first.queue.processInstances(async (batch) => {
      const sops = batch.map((r) => r.instance.sopInstanceUid);
      batches.push(sops);
      // As a merge error may: quoting a value of the record.
      if (sops.includes('BAD')) throw new Error(`cannot merge "${PATIENT_NAME}"`);
      await first.store.mergeInstances(batch);
    });
    await waitFor(async () => (await first.queue.depth()).deadLetters === 1, 20_000, 'the poison record dead-lettered');

    expect(await numberOfInstances(first)).toBe(6);
    // The whole batch failed once; then each record alone: the poison one on each of its deliveries.
    expect(batches[0]).toEqual(['G1', 'G2', 'G3', 'BAD', 'G4', 'G5', 'G6']);
    expect(batches.filter((b) => b.length === 1 && b[0] === 'BAD')).toHaveLength(MAX_DELIVERIES);
    const [dead] = await deadLetterEntries(prefix);
    expect(JSON.parse(dead!.r!)).toEqual(JSON.parse(JSON.stringify(records[3])));
    expect(dead).toMatchObject({ deliveries: String(MAX_DELIVERIES), reason: 'merge failed: Error: cannot merge …' });
    const moved = lines.filter((l) => l.msg === 'instance record moved to the dead-letter stream');
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatchObject({ level: 50, entryId: dead!['entry-id'], reason: 'merge failed: Error: cannot merge …' });
    expect(JSON.stringify(lines)).not.toContain(PATIENT_NAME);
    expect((await operatorView(first)).status.queue.deadLetters).toBe(1);
    await first.close();

    // A new process: the dead letter stays where it is; the new worker never sees it.
    const second = await open(prefix);
    const seen: string[] = [];
    second.queue.processInstances(async (batch) => {
      seen.push(...batch.map((r) => r.instance.sopInstanceUid));
      await second.store.mergeInstances(batch);
    });
    await second.queue.addInstance(makeRecord({ sop: 'after' }));
    await waitFor(() => seen.includes('after'), 10_000, 'the new record handled');
    await sleep(1000); // several lock durations: any claim of the old entry would have run
    expect(seen).toEqual(['after']);
    expect(await admin.xlen(keys.records)).toBe(0);
    expect((await second.queue.depth()).deadLetters).toBe(1);

    // The operator's re-queue (README): the record goes back on the stream and is merged.
    expect(await runLuaScript(admin, REQUEUE, [keys.deadLetters, keys.records], ['all'])).toBe(1);
    await waitFor(() => seen.includes('BAD'), 10_000, 're-queued record handled');
    await waitFor(async () => (await second.queue.depth()).instances === 0, 10_000, 'acknowledged');
    expect((await second.queue.depth()).deadLetters).toBe(0);
    expect(await numberOfInstances(second)).toBe(8);
  });

  it('Redis away counts no delivery: a batch that fails more than MAX_DELIVERIES times with Redis errors is retried whole, never dead-lettered', async () => {
    const prefix = freshPrefix();
    const pipeline = await open(prefix);
    await Promise.all(['A', 'B', 'C'].map((sop) => pipeline.queue.addInstance(makeRecord({ sop }))));
    const errors = [
      'redis is not available (connection reconnecting)',
      "OOM command not allowed when used memory > 'maxmemory'.",
      'LOADING Redis is loading the dataset in memory',
      'Connection is closed.',
    ];
    let calls = 0;
    const merged: InstanceRecord[][] = [];
    pipeline.queue.processInstances(async (batch) => {
      calls += 1;
      if (calls <= MAX_DELIVERIES + 3) throw new Error(errors[calls % errors.length]);
      merged.push(batch);
    });
    await waitFor(() => merged.length > 0, 20_000, 'merged after the outage');
    expect(merged.map((b) => b.map((r) => r.instance.sopInstanceUid))).toEqual([['A', 'B', 'C']]);
    await waitFor(async () => (await pipeline.queue.depth()).instances === 0, 10_000, 'acknowledged');
    expect((await pipeline.queue.depth()).deadLetters).toBe(0);
  });
});

describe('instances stream: which errors are Redis being away (they count no delivery)', () => {
  it("the errors redis-server and ioredis give: out of memory and an unreachable server are; a script's error is not", async () => {
    const scriptError = await admin.eval("return redis.call('HGET', KEYS[1])", 1, 'k').catch((e: unknown) => e);
    expect(scriptError).toBeInstanceOf(Error);
    expect(isRedisOutage(scriptError)).toBe(false);
    const wrongType = await admin.set('a-string', 'v').then(() => admin.hget('a-string', 'f')).catch((e: unknown) => e);
    expect(isRedisOutage(wrongType)).toBe(false);

    await admin.config('SET', 'maxmemory', '1');
    try {
      const oom = (await admin.eval("return redis.call('SET', KEYS[1], 'v')", 1, 'k').catch((e: unknown) => e)) as Error;
      expect(oom.message).toMatch(/^OOM /);
      expect(isRedisOutage(oom)).toBe(true);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }

    const offline = new Redis(server.url, { lazyConnect: true, enableOfflineQueue: false });
    expect(isRedisOutage(await offline.get('k').catch((e: unknown) => e))).toBe(true);
    offline.disconnect();
    const closed = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    await closed.ping();
    closed.disconnect();
    expect(isRedisOutage(await closed.get('k').catch((e: unknown) => e))).toBe(true);
    const refused = new Redis({ port: 1, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
    refused.on('error', () => undefined);
    expect(isRedisOutage(await refused.get('k').catch((e: unknown) => e))).toBe(true);
    refused.disconnect();
  });
});

describe('instances stream: consumers of stopped processes', () => {
  it('removes the consumers without pending entries idle longer than the given time; keeps one with pending entries, a recent one and itself', async () => {
    const prefix = freshPrefix();
    const keys = await groupWithConsumers(prefix, 'holder', ['stale', 'self']);
    await sleep(300);
    await admin.call('XGROUP', 'CREATECONSUMER', keys.records, INSTANCE_STREAM_GROUP, 'recent');

    expect(await removeIdleConsumers(admin, keys, 'self', 200)).toEqual(['stale']);
    expect(await consumerNames(prefix)).toEqual(['holder', 'recent', 'self']);
    const [pending] = (await admin.xpending(keys.records, INSTANCE_STREAM_GROUP)) as [number];
    expect(pending).toBe(1);
  });

  it('a worker that starts removes the consumers of stopped processes; one with pending entries is kept and its records are merged', async () => {
    const prefix = freshPrefix();
    // Two processes that stopped cleanly, one that died holding a record.
    await groupWithConsumers(prefix, 'crashed', ['old-1', 'old-2']);
    await sleep(400); // longer than the lock duration (200 ms)

    const { logger, lines } = capturingLogger();
    const pipeline = await open(prefix, logger);
    const seen: string[] = [];
    pipeline.queue.processInstances(async (batch) => {
      seen.push(...batch.map((r) => r.instance.sopInstanceUid));
    });
    await waitFor(async () => !(await consumerNames(prefix)).includes('old-1'), 10_000, 'stale consumers removed');
    const names = await consumerNames(prefix);
    expect(names).not.toContain('old-2');
    expect(names).toContain('crashed');
    expect(lines.find((l) => l.msg === 'idle consumers of the instances group removed')).toMatchObject({ consumers: ['old-1', 'old-2'] });
    await waitFor(() => seen.includes('held'), 10_000, "the crashed consumer's record claimed and handled");
    await waitFor(async () => (await pipeline.queue.depth()).instances === 0, 10_000, 'acknowledged');
  });
});
