/** BridgeMetrics over a real embedded store: oldest pending study age and the store's size on disk. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeMetrics } from '../../src/http/metrics.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { makeRecord, silentLogger, tempDir } from '../pipeline/helpers.js';

function value(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? Number.NaN : Number(found.split(' ').pop());
}

let pipeline: Pipeline;
let temp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  temp = await tempDir('metrics-');
  pipeline = openSqlitePipeline({ dataDir: temp.dir, logger: silentLogger });
});
afterAll(async () => {
  await pipeline.close();
  await temp.remove();
});

describe('BridgeMetrics', () => {
  it('oldest pending study age: 0 with none, then the time since its last instance', async () => {
    let now = Date.parse('2024-01-15T10:30:00.000Z');
    const metrics = new BridgeMetrics(pipeline.queue, pipeline.store, { dataDir: temp.dir, now: () => now });
    expect(value(await metrics.registry.metrics(), 'dfb_oldest_pending_study_age_seconds')).toBe(0);
    await pipeline.store.mergeInstances([
      makeRecord({ study: '1.2.3.10', sop: '1.2.3.10.1', receivedAt: '2024-01-15T10:20:00.000Z' }),
      makeRecord({ study: '1.2.3.11', sop: '1.2.3.11.1', receivedAt: '2024-01-15T10:25:00.000Z' }),
    ]);
    expect(value(await metrics.registry.metrics(), 'dfb_oldest_pending_study_age_seconds')).toBe(600);
    await pipeline.store.setPublishStatus('1.2.3.10', { state: 'published', attempts: 1 });
    now += 60_000;
    expect(value(await metrics.registry.metrics(), 'dfb_oldest_pending_study_age_seconds')).toBe(360);
  });

  it('one scrape asks the queue for its depth once (queue depth and dead letters share it), and the next scrape again', async () => {
    let calls = 0;
    const counted = Object.create(pipeline.queue) as typeof pipeline.queue;
    counted.depth = () => {
      calls++;
      return pipeline.queue.depth();
    };
    const metrics = new BridgeMetrics(counted, pipeline.store, { dataDir: temp.dir });
    const text = await metrics.registry.metrics();
    expect(value(text, 'dfb_queue_depth{queue="instances"}')).toBe(0);
    expect(value(text, 'dfb_instance_dead_letters')).toBe(0);
    expect(calls).toBe(1);
    await metrics.registry.metrics();
    expect(calls).toBe(2);
  });

  it('store size: the bytes of the SQLite files in DATA_DIR', async () => {
    const metrics = new BridgeMetrics(pipeline.queue, pipeline.store, { dataDir: temp.dir });
    const text = await metrics.registry.metrics();
    expect(value(text, 'dfb_store_size_bytes{store="pipeline"}')).toBeGreaterThan(4096);
    expect(value(text, 'dfb_store_size_bytes{store="fhir-index"}')).toBe(0);
    expect(new BridgeMetrics(pipeline.queue, pipeline.store).registry.getSingleMetric('dfb_store_size_bytes')).toBeUndefined();
  });
});
