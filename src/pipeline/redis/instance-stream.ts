/**
 * The instances queue of the distributed mode: a Redis stream read by one
 * consumer group. A receiver queues a record with one script call that also
 * checks the rejections (lua/enqueue-instances-2.lua): one round trip per
 * C-STORE, and records added in the same event-loop turn (concurrent
 * associations) go in one call. A worker reads up to `batchSize` records
 * (XREADGROUP), hands them to the handler as one batch and, once it resolved,
 * acknowledges and deletes them (XACK + XDEL, one round trip per batch). A
 * batch that failed because Redis is away (redis-outage.ts) is handed out
 * again whole after a doubling delay. Any other failure may be one record's:
 * the batch is merged again one record at a time, so the others go through,
 * and an entry that fails by itself (or cannot be read) stays pending, to be
 * claimed again after `lockDurationMs`; after MAX_DELIVERIES it is moved to
 * the dead-letter stream (instance-dead-letters.ts). The records of a worker
 * that died stay pending in the group and are claimed by another after
 * `lockDurationMs` (XAUTOCLAIM); consumers of stopped processes are removed
 * (idle-consumers.ts). Why not BullMQ for this: a job
 * costs several scripts per instance (add, move to active, move to finished),
 * each a write Redis fsyncs with `appendfsync always`, and the rejection check
 * could not be in the same script.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { InstanceRecord } from '../../dicom/instance-record.js';
import type { Rejection } from '../../dicom/study-state.js';
import { errorMessage } from '../../errors.js';
import type { InstanceBatchHandler } from '../job-queue.js';
import { decodeRejection } from '../merge.js';
import { removeIdleConsumers } from './idle-consumers.js';
import { deadLetterCount, deadLetterFailed, type EntryFailure } from './instance-dead-letters.js';
import { logSafeReason, readInstanceEntry } from './instance-entry.js';
import { INSTANCE_STREAM_GROUP, instanceStreamKeys, type InstanceStreamKeys } from './keys.js';
import { loadLuaScript, runLuaScript } from './lua-script.js';
import { isRedisOutage } from './redis-outage.js';
import { rejectedField } from './rejected-copy.js';

const ENQUEUE = loadLuaScript(new URL('./lua/', import.meta.url), 'enqueue-instances-2.lua');
/** How long a read waits for records before it looks at claims and closing again. */
const BLOCK_MS = 1000;
/** Shortest time between two removals of idle consumers (also done at start). */
const REMOVE_IDLE_CONSUMERS_EVERY_MS = 60_000;

export interface InstanceStreamOptions {
  /** Command connection (enableOfflineQueue false: a down Redis rejects at once). */
  client: Redis;
  /** Template of the worker connection (maxRetriesPerRequest null); duplicated, never used itself. */
  workerClient: Redis;
  logger: Logger;
  prefix: string;
  batchSize: number;
  batchWindowMs: number;
  instanceRetryDelayMs: number;
  lockDurationMs: number;
  onWorkerError?: ((err: Error) => void) | undefined;
}

interface Pending {
  field: string;
  json: string;
  resolve: (rejection: Rejection | undefined) => void;
  reject: (err: unknown) => void;
}

type StreamEntry = [id: string, fields: string[]];

interface ReadRecord {
  id: string;
  record: InstanceRecord;
}

export class InstanceStream {
  private readonly o: InstanceStreamOptions;
  private readonly keys: InstanceStreamKeys;
  private readonly consumer = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private worker: Redis | undefined;
  private loop: Promise<void> | undefined;
  private reading = false;
  private closed = false;

  constructor(options: InstanceStreamOptions) {
    this.o = options;
    this.keys = instanceStreamKeys(options.prefix);
  }

  /** Queues the record unless the rejections name it; resolves the rejection when it was not queued. */
  add(record: InstanceRecord): Promise<Rejection | undefined> {
    return new Promise((resolve, reject) => {
      const field = rejectedField(record.study?.studyInstanceUid, record.instance?.sopInstanceUid);
      this.pending.push({ field, json: JSON.stringify(record), resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the I/O callbacks of this turn: records of other associations join the call.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const items = this.pending;
    this.pending = [];
    if (items.length === 0) return; // close() rejected them
    const args: string[] = [String(items.length)];
    for (const item of items) args.push(item.field, item.json);
    runLuaScript(this.o.client, ENQUEUE, [this.keys.records, this.keys.rejected], args).then(
      (reply) => {
        const results = reply as (string | null)[];
        items.forEach((item, i) => {
          const r = decodeRejection(results[i]);
          item.resolve(r === undefined ? undefined : { reason: r.reason, kosSopInstanceUid: r.kosSopInstanceUid });
        });
      },
      (err: unknown) => items.forEach((item) => item.reject(err)),
    );
  }

  /** Records queued and not yet acknowledged by a worker. */
  depth(): Promise<number> {
    return this.o.client.xlen(this.keys.records);
  }

  /** Records moved to the dead-letter stream (kept for an operator). */
  deadLetters(): Promise<number> {
    return deadLetterCount(this.o.client, this.keys);
  }

  /** Starts the worker loop (one per process). */
  process(handler: InstanceBatchHandler): void {
    if (this.loop !== undefined) throw new Error('instances are already being processed');
    this.worker = this.o.workerClient.duplicate({ connectionName: `${this.o.prefix}:instance-worker` });
    this.worker.on('error', (err: Error) => {
      if (this.o.onWorkerError) this.o.onWorkerError(err);
      else this.o.logger.debug({ err }, 'redis instance worker error');
    });
    this.loop = this.run(this.worker, handler);
  }

  private async run(conn: Redis, handler: InstanceBatchHandler): Promise<void> {
    let nextClaimAt = 0;
    let nextRemovalAt = 0;
    while (!this.closed) {
      try {
        await this.createGroup(conn);
        break;
      } catch (err) {
        if (this.closed) return;
        this.o.logger.debug({ err: errorMessage(err) }, 'instances group not created yet');
        await sleep(500);
      }
    }
    while (!this.closed) {
      try {
        if (Date.now() >= nextRemovalAt) {
          // Before the claim below takes their entries: a consumer is judged with what it still holds.
          nextRemovalAt = Date.now() + Math.max(REMOVE_IDLE_CONSUMERS_EVERY_MS, this.o.lockDurationMs);
          const removed = await removeIdleConsumers(conn, this.keys, this.consumer, this.o.lockDurationMs);
          if (removed.length > 0) this.o.logger.info({ consumers: removed }, 'idle consumers of the instances group removed');
        }
        let batch: StreamEntry[];
        if (Date.now() >= nextClaimAt) {
          // Records another worker took and never acknowledged (it died), and those that failed by
          // themselves (handed out again, one delivery more): ours after lockDurationMs idle.
          nextClaimAt = Date.now() + Math.max(100, this.o.lockDurationMs / 2);
          batch = await this.claim(conn);
          if (batch.length > 0) this.o.logger.info({ records: batch.length }, 'pending instance records claimed (of a stopped worker, or failed before)');
        } else {
          batch = await this.read(conn, this.o.batchSize, BLOCK_MS);
          if (batch.length > 0 && batch.length < this.o.batchSize && this.o.batchWindowMs > 0 && !this.closed) {
            // A few records: wait for more so that a trickle merges in batches, not one script per instance.
            await sleep(this.o.batchWindowMs);
            batch = batch.concat(await this.read(conn, this.o.batchSize - batch.length, undefined));
          }
        }
        if (batch.length > 0) await this.handle(conn, batch, handler);
      } catch (err) {
        if (this.closed) return;
        this.o.logger.debug({ err: errorMessage(err) }, 'instance worker: redis command failed; retrying');
        await sleep(500);
      }
    }
  }

  private async createGroup(conn: Redis): Promise<void> {
    try {
      // From the start of the stream: records queued before any worker existed are handed out.
      await conn.xgroup('CREATE', this.keys.records, INSTANCE_STREAM_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('BUSYGROUP')) throw err;
    }
  }

  private async read(conn: Redis, count: number, blockMs: number | undefined): Promise<StreamEntry[]> {
    const args: (string | number)[] = ['GROUP', INSTANCE_STREAM_GROUP, this.consumer, 'COUNT', count];
    if (blockMs !== undefined) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.keys.records, '>');
    this.reading = blockMs !== undefined;
    try {
      const reply = (await conn.call('XREADGROUP', ...args)) as unknown[] | null;
      if (!reply || reply.length === 0) return [];
      // One stream: [[name, entries]] (RESP2) or, from a RESP3 map, [name, entries].
      const entries = typeof reply[0] === 'string' ? reply[1] : (reply[0] as unknown[])[1];
      return (entries as StreamEntry[] | null) ?? [];
    } finally {
      this.reading = false;
    }
  }

  private async claim(conn: Redis): Promise<StreamEntry[]> {
    const reply = (await conn.call(
      'XAUTOCLAIM', this.keys.records, INSTANCE_STREAM_GROUP, this.consumer, this.o.lockDurationMs, '0-0', 'COUNT', this.o.batchSize,
    )) as [string, (StreamEntry | null)[], string[]?];
    // Entries deleted meanwhile come back as nil (Redis 7.0) or in the third element.
    return reply[1].filter((e): e is StreamEntry => e !== null && Array.isArray(e[1]));
  }

  /**
   * Reads each entry, merges the readable ones (merge) and hands the entries
   * that failed to the dead-letter check. Returns early when closed: what is
   * not acknowledged stays pending for the next worker.
   */
  private async handle(conn: Redis, batch: StreamEntry[], handler: InstanceBatchHandler): Promise<void> {
    const readable: ReadRecord[] = [];
    const failures: EntryFailure[] = [];
    for (const [id, fields] of batch) {
      const read = readInstanceEntry(fields);
      if ('record' in read) readable.push({ id, record: read.record });
      else failures.push({ id, reason: read.reason, error: read.reason });
    }
    if (readable.length > 0) {
      const failed = await this.merge(conn, readable, handler);
      if (failed === undefined) return;
      failures.push(...failed);
    }
    if (failures.length > 0) await deadLetterFailed(conn, this.keys, this.consumer, failures, this.o.logger);
  }

  /**
   * Hands the records to the handler and acknowledges them once it resolved.
   * Redis away: the same records again after a doubling delay (max 30 s).
   * Another error: one record at a time, so that one bad record does not hold
   * the others. Resolves the entries that failed by themselves; undefined
   * when closed meanwhile.
   */
  private async merge(conn: Redis, entries: ReadRecord[], handler: InstanceBatchHandler): Promise<EntryFailure[] | undefined> {
    const ids = entries.map((e) => e.id);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await handler(entries.map((e) => e.record));
        break;
      } catch (err) {
        if (this.closed) return undefined; // left pending: the next worker takes it
        if (!isRedisOutage(err)) {
          if (entries.length === 1) return [{ id: ids[0]!, reason: logSafeReason(err), error: errorMessage(err) }];
          this.o.logger.warn({ reason: logSafeReason(err), records: entries.length }, 'instance batch failed; merging its records one at a time');
          const failures: EntryFailure[] = [];
          for (const entry of entries) {
            const failed = await this.merge(conn, [entry], handler);
            if (failed === undefined) return undefined;
            failures.push(...failed);
          }
          return failures;
        }
        this.o.logger.warn({ err, records: entries.length, attempts: attempt }, 'instance batch failed; will retry');
        await sleep(Math.min(this.o.instanceRetryDelayMs * 2 ** (attempt - 1), 30_000));
        if (this.closed) return undefined;
        // Still ours: reset the idle time, so no other worker claims the batch meanwhile (JUSTID: no delivery counted).
        await conn.xclaim(this.keys.records, INSTANCE_STREAM_GROUP, this.consumer, 0, ...ids, 'JUSTID');
      }
    }
    await conn.multi().xack(this.keys.records, INSTANCE_STREAM_GROUP, ...ids).xdel(this.keys.records, ...ids).exec();
    return [];
  }

  /** Rejects records not sent yet, stops the loop after the running batch, closes the worker connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const item of this.pending.splice(0)) item.reject(new Error('queue closed'));
    // A blocked read would hold the loop for up to BLOCK_MS: drop it (its records stay pending for the group).
    if (this.reading) this.worker?.disconnect();
    await this.loop;
    this.worker?.disconnect();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
