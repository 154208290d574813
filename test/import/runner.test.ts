/**
 * The import runner against the real pipelines (SQLite in a temp DATA_DIR, a
 * real redis-server): records queued once each, checkpoints per study,
 * --resume after an interrupt ends exact, a failing study is listed and the
 * rest goes on, a dry run queues nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { runImport, type ImportTarget } from '../../src/import/runner.js';
import type { ImportSource, StudyWork } from '../../src/import/source.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openRedisPipeline } from '../../src/pipeline/redis/index.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { makeRecord, silentLogger, tempDir } from '../pipeline/helpers.js';

const STUDIES = 5;
const PER_STUDY = 10;

/** 5 studies × 10 instances; `failing` studies reject their load. */
function source(runId: string, failing: string[] = []): ImportSource & { loads: string[] } {
  const loads: string[] = [];
  return {
    runId,
    loads,
    async *studies() {
      for (let s = 0; s < STUDIES; s++) {
        const studyInstanceUid = `2.25.${s + 1}`;
        const work: StudyWork = {
          studyInstanceUid,
          instances: PER_STUDY,
          load: async () => {
            loads.push(studyInstanceUid);
            if (failing.includes(studyInstanceUid)) throw new Error('HTTP 500 from the archive');
            return Array.from({ length: PER_STUDY }, (_, i) =>
              ({ ...makeRecord({ study: studyInstanceUid, series: `${studyInstanceUid}.1`, sop: `${studyInstanceUid}.1.${i + 1}` }), receipt: { ...makeRecord({ sop: 'x' }).receipt, source: 'dicomweb' } }) as InstanceRecord,
            );
          },
        };
        yield work;
      }
    },
  };
}

/** A target that adds to the pipeline's queue and remembers each SOP Instance UID queued. */
function target(pipeline: Pipeline, queued: string[]): ImportTarget {
  return {
    addInstance: async (record) => {
      await pipeline.queue.addInstance(record);
      queued.push(record.instance.sopInstanceUid);
    },
    checkpoints: pipeline.checkpoints,
  };
}

const open = new AbortController().signal;

describe.each(['embedded', 'redis'] as const)('import runner, %s pipeline', (mode) => {
  let redis: TestRedis | undefined;
  let remove: (() => Promise<void>) | undefined;
  let pipeline: Pipeline;

  beforeAll(async () => {
    if (mode === 'redis') {
      redis = await startRedis();
      pipeline = await openRedisPipeline({ url: redis.url, prefix: 'runner', logger: silentLogger });
      while (!pipeline.isHealthy()) await new Promise((r) => setTimeout(r, 20));
    } else {
      const dir = await tempDir('import-runner-');
      remove = dir.remove;
      pipeline = openSqlitePipeline({ dataDir: dir.dir, logger: silentLogger });
    }
  });
  afterAll(async () => {
    await pipeline?.close();
    await redis?.stop();
    await remove?.();
  });

  it('interrupted after the first study and resumed, queues every instance exactly once', async () => {
    const queued: string[] = [];
    const abort = new AbortController();
    const first = await runImport(source('interrupt'), {
      concurrency: 1,
      resume: false,
      target: target(pipeline, queued),
      signal: abort.signal,
      progress: (e) => {
        if (e.outcome === 'queued') abort.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    expect(first.studiesQueued).toBe(1);
    expect(queued).toHaveLength(PER_STUDY);

    const resumed = await runImport(source('interrupt'), { concurrency: 2, resume: true, target: target(pipeline, queued), signal: open });
    expect(resumed).toMatchObject({ interrupted: false, studiesFound: STUDIES, studiesSkipped: 1, studiesQueued: STUDIES - 1, studiesFailed: 0 });
    expect(queued).toHaveLength(STUDIES * PER_STUDY);
    expect(new Set(queued).size).toBe(STUDIES * PER_STUDY);
    expect(await pipeline.checkpoints.done('interrupt')).toEqual(new Set(Array.from({ length: STUDIES }, (_, s) => `2.25.${s + 1}`)));
  });

  it('lists a study that fails with its reason and queues the others; a resume retries only that one', async () => {
    const queued: string[] = [];
    const failed = await runImport(source('failing', ['2.25.3']), { concurrency: 2, resume: false, target: target(pipeline, queued), signal: open });
    expect(failed).toMatchObject({ studiesQueued: 4, studiesFailed: 1, instancesQueued: 40 });
    expect(failed.failures).toEqual([{ subject: 'study 2.25.3', reason: 'HTTP 500 from the archive' }]);
    const retried = source('failing');
    const again = await runImport(retried, { concurrency: 2, resume: true, target: target(pipeline, queued), signal: open });
    expect(again).toMatchObject({ studiesQueued: 1, studiesSkipped: 4, studiesFailed: 0 });
    expect(retried.loads).toEqual(['2.25.3']);
    expect(new Set(queued).size).toBe(50);
  });

  it('without --resume starts over; a dry run loads nothing and queues nothing', async () => {
    const queued: string[] = [];
    const over = await runImport(source('interrupt'), { concurrency: 3, resume: false, target: target(pipeline, queued), signal: open });
    expect(over).toMatchObject({ studiesQueued: STUDIES, studiesSkipped: 0 });
    const dry = source('dry');
    const counted = await runImport(dry, { concurrency: 2, resume: false, signal: open });
    expect(counted).toMatchObject({ studiesFound: STUDIES, studiesCounted: STUDIES, instancesCounted: STUDIES * PER_STUDY, studiesQueued: 0 });
    expect(dry.loads).toEqual([]);
    expect(await pipeline.checkpoints.done('dry')).toEqual(new Set());
  });
});
