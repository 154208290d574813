import type { Logger } from 'pino';
import type { Pipeline } from './pipeline.js';
import { openSqlitePipeline } from './sqlite/index.js';

/** The configuration the pipeline reads (of BridgeConfig). */
export interface PipelineConfig {
  /** Set: distributed mode. */
  redisUrl?: string | undefined;
  redis: { prefix: string; lockDurationMs: number };
  dataDir: string;
  pipeline: { dataSync: 'full' | 'normal'; storageCommitTimeoutMs: number };
  /** Embedded mode only (the schema refuses it with REDIS_URL). */
  retention?: { publishedDays?: number | undefined; intervalMs: number; batchSize: number };
}

/**
 * The pipeline of the configured mode: distributed when REDIS_URL is set, else embedded in DATA_DIR.
 * `runRetention`: the daemon's store runs the configured retention; other users (import) leave it
 * alone, so an `import --resume` reads its checkpoints before any pass could drop them.
 */
export async function openPipeline(config: PipelineConfig, logger: Logger, options: { runRetention?: boolean } = {}): Promise<Pipeline> {
  if (config.redisUrl) {
    // Loaded only in distributed mode: BullMQ and ioredis are about 25 MB of an embedded bridge's memory otherwise.
    const { openRedisPipeline } = await import('./redis/index.js');
    return openRedisPipeline({
      url: config.redisUrl,
      prefix: config.redis.prefix,
      logger,
      queue: { lockDurationMs: config.redis.lockDurationMs },
    });
  }
  const pipeline = openSqlitePipeline({
    dataDir: config.dataDir,
    logger,
    synchronous: config.pipeline.dataSync === 'full' ? 'FULL' : 'NORMAL',
    ...(options.runRetention && config.retention?.publishedDays !== undefined
      ? { retention: { publishedDays: config.retention.publishedDays, intervalMs: config.retention.intervalMs, batchSize: config.retention.batchSize } }
      : {}),
    commitTimeoutMs: config.pipeline.storageCommitTimeoutMs,
  });
  try {
    await pipeline.ready;
  } catch (err) {
    await pipeline.close().catch(() => {});
    throw err;
  }
  return pipeline;
}
