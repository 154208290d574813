// The behaviour both stores share is in store-contract.ts (run on SQLite by
// store-contract-sqlite.test.ts); these are the SQLite store's own.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { makeRecord, silentLogger, tempDir } from './helpers.js';
import { kosRecord } from './store-contract.js';

let dir: string;
let remove: () => Promise<void>;
let pipeline: Pipeline;

beforeEach(async () => {
  ({ dir, remove } = await tempDir());
  pipeline = openSqlitePipeline({ dataDir: dir, logger: silentLogger });
});

afterEach(async () => {
  await pipeline.close();
  await remove();
});

const t = (second: number): string => `2024-01-15T10:20:${String(second).padStart(2, '0')}.000Z`;

describe('SqliteStudyStore specifics', () => {
  it('moves an instance re-sent with another study UID and reports both studies', async () => {
    const { store } = pipeline;
    await store.mergeInstances([makeRecord({ study: 'A', series: 'S1', sop: 'I1' }), makeRecord({ study: 'A', series: 'S1', sop: 'I2' })]);
    const changed = await store.mergeInstances([makeRecord({ study: 'B', series: 'S9', sop: 'I1', receivedAt: t(50) })]);
    expect(changed.sort()).toEqual(['A', 'B']);
    expect((await store.getSummary('A'))?.numberOfInstances).toBe(1);
    expect((await store.getSummary('B'))?.numberOfInstances).toBe(1);
  });

  it('remembers rejections after a restart (rejectionOf skips the query only for studies without any)', async () => {
    await pipeline.store.mergeInstances([makeRecord({ sop: 'I1' }), makeRecord({ sop: 'I2' }), makeRecord({ study: 'OTHER', sop: 'X1' })]);
    await pipeline.store.mergeInstances([kosRecord({ sop: 'K1', title: '113001', refs: [{ sop: 'I1' }] })]);
    await pipeline.close();
    pipeline = openSqlitePipeline({ dataDir: dir, logger: silentLogger });
    const { store } = pipeline;
    expect(await store.rejectionOf('1.2.3', 'I1')).toEqual({ reason: '113001', kosSopInstanceUid: 'K1' });
    expect(await store.rejectionOf('1.2.3', 'I2')).toBeUndefined();
    expect(await store.rejectionOf('OTHER', 'X1')).toBeUndefined();
    // A re-send of the rejected instance after the restart stays out of the study.
    await store.mergeInstances([makeRecord({ sop: 'I1', receivedAt: t(59) })]);
    expect((await store.getStudy('1.2.3'))?.series.flatMap((s) => s.instances.map((i) => i.sopInstanceUid))).toEqual(['I2']);
  });

  it('loads a 20,000-instance study', async () => {
    const { store } = pipeline;
    const records = Array.from({ length: 20_000 }, (_, i) =>
      makeRecord({ series: `S${i % 4}`, seriesNumber: i % 4, sop: `I${i}`, instanceNumber: i }),
    );
    for (let i = 0; i < records.length; i += 500) await store.mergeInstances(records.slice(i, i + 500));
    const state = await store.getStudy('1.2.3');
    expect(state?.series.map((s) => s.instances.length)).toEqual([5_000, 5_000, 5_000, 5_000]);
    expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 4, numberOfInstances: 20_000 });
  });
});
