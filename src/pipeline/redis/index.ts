import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pipeline } from '../pipeline.js';
import { logConnectionErrors } from './connection-errors.js';
import { RedisJobQueue, type RedisJobQueueOptions } from './job-queue.js';
import { redisImportCheckpoints } from './import-checkpoints.js';
import { DEFAULT_PREFIX } from './keys.js';
import { buildRejectedCopy } from './rejected-copy.js';
import { quitOrDisconnect, RedisStudyStore } from './study-store.js';

export { RedisJobQueue, type RedisJobQueueOptions } from './job-queue.js';
export { RedisStudyStore, type RedisStudyStoreOptions } from './study-store.js';
export { DEFAULT_PREFIX, INSTANCES_QUEUE, PUBLISHES_QUEUE, stateIndexKey, studyKeys } from './keys.js';

export interface RedisPipelineOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** Key prefix of every key (default `dfb`). */
  prefix?: string;
  logger: Logger;
  /** Clock of the publish maxDelayMs cap (ms since the epoch). Default Date.now. */
  now?: () => number;
  /** Queue tuning; defaults documented in RedisJobQueueOptions. */
  queue?: Pick<
    RedisJobQueueOptions,
    'batchSize' | 'batchWindowMs' | 'instanceRetryDelayMs' | 'publishConcurrency' | 'commandTimeoutMs' | 'lockDurationMs'
  >;
}

/** Reconnect delay: 100 ms, growing to 2 s; ioredis keeps trying for ever. */
const retryStrategy = (times: number): number => Math.min(100 * times, 2000);

/**
 * The distributed pipeline: BullMQ queues and the study store on one Redis.
 * Resolves without waiting for Redis: while it is unreachable (at start or
 * later) isHealthy() is false, addInstance and schedulePublish reject at
 * once, workers wait, and everything resumes when Redis is back. isHealthy()
 * is false while the command connection is down (readiness).
 */
export async function openRedisPipeline(options: RedisPipelineOptions): Promise<Pipeline> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const logger = options.logger;
  // Producers and the store: fail fast instead of queueing commands in memory while Redis is down.
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy,
    connectionName: `${prefix}:commands`,
  });
  // Template for BullMQ workers (duplicated per worker); never connects itself.
  const workerClient = new Redis(options.url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    retryStrategy,
  });

  logConnectionErrors(client, logger, 'redis connection error');
  client.on('ready', () => {
    logger.info('redis connection ready');
    void buildRejectedCopy(client, prefix, logger);
  });
  client.on('close', () => logger.debug('redis connection closed'));
  // The workers' connections are BullMQ's duplicates of the template: their errors come as worker errors.
  const workerError = logConnectionErrors(workerClient, logger, 'redis worker connection error');

  const queue = new RedisJobQueue({ ...options.queue, client, workerClient, logger, prefix, now: options.now, onWorkerError: workerError });
  const store = new RedisStudyStore({ client, logger, prefix });
  let closing: Promise<void> | undefined;
  return {
    queue,
    store,
    checkpoints: redisImportCheckpoints(client, prefix),
    isHealthy: () => client.status === 'ready',
    close() {
      closing ??= (async () => {
        await queue.close();
        await store.close();
        await quitOrDisconnect(client);
        workerClient.disconnect();
      })();
      return closing;
    },
  };
}
