import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { InstanceRecord } from '../../dicom/instance-record.js';
import type { Rejection } from '../../dicom/study-state.js';
import type { InstanceBatchHandler, JobQueue, PublishHandler, PublishSchedule, QueueDepth } from '../job-queue.js';
import { defaultRetryDelayMs } from '../retry-delay.js';
import { InstanceStream } from './instance-stream.js';
import { DEFAULT_PREFIX, INSTANCES_QUEUE, PUBLISHES_QUEUE, studyKeys } from './keys.js';

export interface RedisJobQueueOptions {
  /**
   * Command connection (producers, the publish-requested keys). Should have
   * `enableOfflineQueue: false` so a down Redis rejects at once.
   */
  client: Redis;
  /**
   * Template of the worker connections (`maxRetriesPerRequest: null`); BullMQ
   * duplicates it for each worker (one normal, one blocking connection).
   * May be created with `lazyConnect: true`: it is never used itself.
   */
  workerClient: Redis;
  logger: Logger;
  /** Key prefix (default `dfb`). */
  prefix?: string;
  /** Clock of the maxDelayMs cap (ms since the epoch). Default Date.now. */
  now?: () => number;
  /** Largest instance batch handed to the handler (= instance worker concurrency). Default 100. */
  batchSize?: number;
  /**
   * How long a batch that is not full waits for more records before it is
   * handed out. Default 100 ms (as the embedded aggregator): each batch costs a
   * few fsynced writes, which a C-STORE arriving meanwhile waits behind.
   */
  batchWindowMs?: number;
  /** First delay before a failed instance job is handed out again (doubles, max 30 s). Default 1 s. */
  instanceRetryDelayMs?: number;
  /** Publishes of different studies that may run at once. Default 4. */
  publishConcurrency?: number;
  /** Upper bound of an addInstance / schedulePublish call before it rejects. Default 5 s. */
  commandTimeoutMs?: number;
  /** Worker lock duration; a job of a crashed worker is handed out again after about this long. Default 30 s. */
  lockDurationMs?: number;
  /** Told the errors of the workers (their connections); default a debug log line. */
  onWorkerError?: (err: Error) => void;
}

interface PublishJobData {
  studyInstanceUid: string;
}

interface BatchItem {
  record: InstanceRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** "Unbounded" retries: nothing is dropped (architecture.md). */
const ATTEMPTS = 1_000_000_000;
const BACKOFF_TYPE = 'dfb';
/** Cap on a server's Retry-After that the publish queue honours (as the SQLite queue). */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** A stalled job (worker crashed mid-job) is handed out again this many times before BullMQ fails it. */
const MAX_STALLED_COUNT = 1000;

/**
 * JobQueue on Redis. Instances: a stream with a consumer group
 * (instance-stream.ts), one script call per C-STORE that also checks the
 * rejections. The BullMQ instances queue of earlier versions is still drained
 * when it holds jobs at start (one job per record; a worker with concurrency
 * `batchSize` collects the jobs it holds for up to `batchWindowMs` and hands
 * them to the handler as one batch). Publishes: one BullMQ job per study, deduplicated by the study UID
 * (replace + extend = debounce; keepLastIfActive = at most one running and
 * one waiting per study). The maxDelayMs cap uses a per-study
 * "first requested at" key (SET NX GET), cleared when the publish starts.
 */
export class RedisJobQueue implements JobQueue {
  private readonly client: Redis;
  private readonly workerClient: Redis;
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly batchSize: number;
  private readonly batchWindowMs: number;
  private readonly instanceRetryDelayMs: number;
  private readonly publishConcurrency: number;
  private readonly commandTimeoutMs: number;
  private readonly lockDurationMs: number;
  private readonly onWorkerError: ((err: Error) => void) | undefined;
  /** The BullMQ instances queue of earlier versions: only drained. */
  private readonly instances: Queue<InstanceRecord>;
  private readonly stream: InstanceStream;
  private readonly publishes: Queue<PublishJobData>;
  private readonly workers: Worker[] = [];
  private batch: BatchItem[] = [];
  private batchTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: RedisJobQueueOptions) {
    this.client = options.client;
    this.workerClient = options.workerClient;
    this.logger = options.logger;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.now = options.now ?? Date.now;
    this.batchSize = options.batchSize ?? 100;
    this.batchWindowMs = options.batchWindowMs ?? 100;
    this.instanceRetryDelayMs = options.instanceRetryDelayMs ?? 1000;
    this.publishConcurrency = options.publishConcurrency ?? 4;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    this.lockDurationMs = options.lockDurationMs ?? 30_000;
    this.onWorkerError = options.onWorkerError;
    this.stream = new InstanceStream({
      client: this.client,
      workerClient: this.workerClient,
      logger: this.logger,
      prefix: this.prefix,
      batchSize: this.batchSize,
      batchWindowMs: this.batchWindowMs,
      instanceRetryDelayMs: this.instanceRetryDelayMs,
      lockDurationMs: this.lockDurationMs,
      onWorkerError: this.onWorkerError,
    });
    const queueOptions = { connection: this.client, prefix: this.prefix };
    this.instances = new Queue<InstanceRecord>(INSTANCES_QUEUE, queueOptions);
    this.publishes = new Queue<PublishJobData>(PUBLISHES_QUEUE, queueOptions);
    for (const queue of [this.instances, this.publishes]) {
      queue.on('error', (err) => this.logger.debug({ err, queue: queue.name }, 'redis queue error'));
    }
  }

  /** Queues the record; a record the rejections name is not queued (the merge would skip it). */
  async addInstance(record: InstanceRecord): Promise<void> {
    await this.addInstanceUnlessRejected(record);
  }

  /** One script call: the rejection check and the append to the stream, atomically. */
  async addInstanceUnlessRejected(record: InstanceRecord): Promise<Rejection | undefined> {
    this.assertUsable();
    return this.withTimeout(this.stream.add(record), 'addInstance');
  }

  processInstances(handler: InstanceBatchHandler): void {
    if (this.closing !== undefined) throw new Error('job queue is closed');
    this.stream.process(handler);
    void this.drainLegacyInstances(handler);
  }

  /** Jobs left in the BullMQ instances queue by an earlier version: a BullMQ worker takes them. */
  private async drainLegacyInstances(handler: InstanceBatchHandler): Promise<void> {
    let left = 0;
    for (;;) {
      if (this.closing !== undefined) return;
      try {
        left = await this.instances.getJobCountByTypes('wait', 'active', 'delayed', 'prioritized');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    if (left === 0 || this.closing !== undefined) return;
    this.logger.info({ jobs: left }, 'draining the instance jobs of the previous queue');
    const worker = this.startWorker<InstanceRecord>(
      INSTANCES_QUEUE,
      (job) =>
        new Promise<void>((resolve, reject) => {
          this.batch.push({ record: job.data, resolve, reject });
          if (this.batch.length >= this.batchSize) this.flushBatch(handler);
          else this.batchTimer ??= setTimeout(() => this.flushBatch(handler), this.batchWindowMs);
        }),
      this.batchSize,
      (attempt) => Math.min(this.instanceRetryDelayMs * 2 ** Math.max(0, attempt - 1), 30_000),
    );
    worker.on('failed', (job, err) =>
      this.logger.warn({ err, jobId: job?.id, attempts: job?.attemptsMade }, 'instance batch failed; will retry'),
    );
  }

  async schedulePublish(studyInstanceUid: string, schedule: PublishSchedule): Promise<void> {
    this.assertUsable();
    const now = this.now();
    const key = studyKeys(this.prefix, studyInstanceUid).publishRequested;
    // Expiry only cleans up after a lost worker; the key is deleted when the publish starts.
    const ttl = Math.max(1, Math.ceil(schedule.maxDelayMs + schedule.debounceMs + 60_000));
    const previous = (await this.withTimeout(
      this.client.call('SET', key, String(now), 'PX', String(ttl), 'NX', 'GET'),
      'schedulePublish',
    )) as string | null;
    const firstRequestedAt = previous === null ? now : Number(previous);
    const delay = Math.max(0, Math.min(schedule.debounceMs, firstRequestedAt + schedule.maxDelayMs - now));
    await this.withTimeout(
      this.publishes.add(
        'publish',
        { studyInstanceUid },
        {
          deduplication: {
            id: studyInstanceUid,
            ttl: Math.max(1, schedule.debounceMs),
            extend: true,
            replace: true,
            keepLastIfActive: true,
          },
          delay,
          attempts: ATTEMPTS,
          backoff: { type: BACKOFF_TYPE },
          removeOnComplete: true,
          removeOnFail: false,
        },
      ),
      'schedulePublish',
    );
  }

  processPublishes(handler: PublishHandler, options: { retryDelayMs?: (attempt: number) => number } = {}): void {
    const retryDelayMs = options.retryDelayMs ?? ((attempt: number) => defaultRetryDelayMs(attempt));
    const worker = this.startWorker<PublishJobData>(
      PUBLISHES_QUEUE,
      async (job) => {
        const uid = job.data.studyInstanceUid;
        // The publish starts: the next request opens a new maxDelayMs window.
        await this.client.del(studyKeys(this.prefix, uid).publishRequested);
        await handler(uid);
      },
      this.publishConcurrency,
      (attempt, err) => {
        let delay = retryDelayMs(attempt);
        const retryAfterMs = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
        if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs)) {
          delay = Math.max(delay, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
        }
        return delay;
      },
    );
    worker.on('failed', (job, err) =>
      this.logger.warn(
        { err, studyInstanceUid: job?.data.studyInstanceUid, attempts: job?.attemptsMade },
        'publish failed; will retry',
      ),
    );
  }

  /** Jobs waiting, delayed (debounce, backoff) or running, per queue; and the instance records dead-lettered. */
  async depth(): Promise<QueueDepth> {
    const types = ['wait', 'active', 'delayed', 'prioritized'] as const;
    const [queued, legacy, publishes, deadLetters] = await Promise.all([
      this.stream.depth(),
      this.instances.getJobCountByTypes(...types),
      this.publishes.getJobCountByTypes(...types),
      this.stream.deadLetters(),
    ]);
    return { instances: queued + legacy, publishes, deadLetters };
  }

  /** Stops the workers (waiting for running handlers) and closes the queues. Leaves the caller's connections open. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await Promise.all([this.stream.close(), ...this.workers.map((w) => closeWorker(w, this.logger))]);
    if (this.batchTimer !== undefined) clearTimeout(this.batchTimer);
    for (const item of this.batch.splice(0)) item.reject(new Error('queue closed'));
    await Promise.all([this.instances.close(), this.publishes.close()].map((p) => p.catch(() => undefined)));
  }

  private assertUsable(): void {
    if (this.closing !== undefined) throw new Error('job queue is closed');
    if (this.client.status !== 'ready') throw new Error(`redis is not available (connection ${this.client.status})`);
  }

  private flushBatch(handler: InstanceBatchHandler): void {
    if (this.batchTimer !== undefined) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const items = this.batch;
    this.batch = [];
    if (items.length === 0) return;
    let result: Promise<void>;
    try {
      result = handler(items.map((i) => i.record));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => items.forEach((i) => i.resolve()),
      (err: unknown) => items.forEach((i) => i.reject(err)),
    );
  }

  private startWorker<T>(
    name: string,
    processor: (job: Job<T>) => Promise<void>,
    concurrency: number,
    backoff: (attempt: number, err: Error | undefined) => number,
  ): Worker<T> {
    if (this.closing !== undefined) throw new Error('job queue is closed');
    const worker = new Worker<T>(name, processor, {
      connection: this.workerClient,
      prefix: this.prefix,
      concurrency,
      lockDuration: this.lockDurationMs,
      // A crashed worker's job is found again within one lock duration.
      stalledInterval: this.lockDurationMs,
      maxStalledCount: MAX_STALLED_COUNT,
      settings: { backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => backoff(attemptsMade, err) },
    });
    worker.on('error', (err) => {
      if (this.onWorkerError) this.onWorkerError(err);
      else this.logger.debug({ err, queue: name }, 'redis worker error');
    });
    this.workers.push(worker as Worker);
    return worker;
  }

  private withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: redis did not answer within ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

/** Closes a worker, waiting for its running jobs; forces it after 30 s (e.g. Redis gone). */
async function closeWorker(worker: Worker, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), 30_000);
  });
  const outcome = await Promise.race([worker.close().then(() => 'closed' as const), forced]).catch(() => 'error' as const);
  clearTimeout(timer);
  if (outcome !== 'closed') {
    logger.warn({ queue: worker.name }, 'worker did not close in time; forcing');
    await worker.close(true).catch(() => undefined);
  }
}
