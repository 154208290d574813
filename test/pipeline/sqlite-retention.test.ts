// Retention of the embedded store (src/pipeline/sqlite/retention.ts) against a real bridge.sqlite:
// what a published study keeps (dedup, a complete republish), what it drops, what it never touches.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import { mergeImagingStudy } from '../../src/fhir/owned-elements.js';
import { BATCH_BYTES, CANDIDATES_SQL } from '../../src/pipeline/sqlite/retention.js';
import { openSqliteParts, type SqliteParts } from '../../src/pipeline/sqlite/index.js';
import { PUBLISH_HISTORY_LIMIT } from '../../src/pipeline/study-store.js';
import { makeRecord, manualClock, silentLogger, tempDir } from './helpers.js';

const DAY = 86_400_000;
const MAPPING: MappingOptions & { fhirVersion: 'R4' } = {
  fhirVersion: 'R4',
  patientIdentifier: { defaultSystem: 'urn:test:pid', issuerSystems: {} },
  timezone: 'UTC',
  basedOn: 'off',
  endpointReference: 'Endpoint/wado',
};

let dir: string;
let remove: () => Promise<void>;
let parts: SqliteParts;
const clock = manualClock(Date.parse('2026-01-01T00:00:00.000Z'));

function open(batchSize = 100): SqliteParts {
  // A long interval: the tests run the passes themselves (the start pass finds nothing old yet).
  return openSqliteParts({ dataDir: dir, logger: silentLogger, now: clock.now, retention: { publishedDays: 30, intervalMs: 10 * DAY, batchSize } });
}

beforeEach(async () => {
  clock.set(Date.parse('2026-01-01T00:00:00.000Z'));
  ({ dir, remove } = await tempDir('retention-test-'));
  parts = open();
  await new Promise((resolve) => setImmediate(resolve));
});

afterEach(async () => {
  await parts.close();
  await remove();
});

/** A study of `series` series × `perSeries` instances (CT, then MR), with an accession number. */
function studyRecords(study: string, series: number, perSeries: number): InstanceRecord[] {
  const records: InstanceRecord[] = [];
  for (let s = 0; s < series; s++) {
    for (let i = 0; i < perSeries; i++) {
      const record = makeRecord({ study, series: `${study}.${s}`, seriesNumber: s + 1, sop: `${study}.${s}.${i}`, instanceNumber: i + 1, modality: s === 0 ? 'CT' : 'MR' });
      record.study.accessionNumber = `ACC-${study}`;
      records.push(record);
    }
  }
  return records;
}

/** What the publisher does on success, with the real mapping: the resource generated, one attempt per call. */
async function publish(study: string, attempts = 1): Promise<ReturnType<typeof mapImagingStudy>> {
  const { store } = parts;
  const begun = (await store.beginPublish(study))!;
  const body = mapImagingStudy(begun.state, MAPPING);
  const at = new Date(clock.now()).toISOString();
  await store.finishPublish(study, begun.generation, { state: 'published', publishedAt: at, lastResource: body, resourceId: `id-${study}` });
  for (let n = 0; n < attempts; n++) await store.recordPublishAttempt(study, { at, outcome: 'published', httpStatus: 200, durationMs: n });
  return body;
}

describe('retention of published studies (RETENTION_PUBLISHED_DAYS)', () => {
  it('keeps a study published within the period whole', async () => {
    await parts.store.mergeInstances(studyRecords('1.9.1', 1, 3));
    const body = await publish('1.9.1', 3);
    clock.advance(29 * DAY);
    expect(await parts.retention!.runOnce()).toEqual({ studies: 0, resourceBytes: 0, attempts: 0, checkpoints: 0 });
    expect((await parts.store.getSummary('1.9.1'))!.publish.lastResource).toEqual(body);
    expect(await parts.store.publishHistory('1.9.1')).toHaveLength(3);
  });

  it('compacts the copy of the ImagingStudy and the history of a study published longer ago; the instance records stay', async () => {
    await parts.store.mergeInstances(studyRecords('1.9.1', 2, 5));
    const body = await publish('1.9.1', PUBLISH_HISTORY_LIMIT);
    clock.advance(31 * DAY);
    const result = await parts.retention!.runOnce();
    expect(result).toMatchObject({ studies: 1, attempts: PUBLISH_HISTORY_LIMIT - 1 });
    expect(result.resourceBytes).toBeGreaterThan(JSON.stringify(body).length / 2);
    const summary = (await parts.store.getSummary('1.9.1'))!;
    expect(summary).toMatchObject({ numberOfSeries: 2, numberOfInstances: 10, publish: { state: 'published', resourceId: 'id-1.9.1' } });
    // What mergeImagingStudy reads of the previous resource, nothing else.
    expect(summary.publish.lastResource).toEqual({ resourceType: 'ImagingStudy', identifier: body.identifier, endpoint: body.endpoint });
    expect(await parts.store.publishHistory('1.9.1')).toHaveLength(1);
    // A second pass has nothing left to do.
    expect((await parts.retention!.runOnce()).studies).toBe(0);
  });

  it('deduplicates a re-sent instance after retention: no change, no publish', async () => {
    const records = studyRecords('1.9.1', 2, 5);
    await parts.store.mergeInstances(records);
    await publish('1.9.1');
    clock.advance(31 * DAY);
    await parts.retention!.runOnce();
    expect(await parts.store.mergeInstances([records[3]!, records[7]!])).toEqual([]);
    expect(await parts.store.mergeInstances(records)).toEqual([]);
    expect((await parts.store.getSummary('1.9.1'))!.publish.state).toBe('published');
  });

  it('publishes a complete ImagingStudy when a new instance arrives after retention, and retains it again later', async () => {
    await parts.store.mergeInstances(studyRecords('1.9.1', 2, 5));
    const before = await publish('1.9.1');
    clock.advance(31 * DAY);
    await parts.retention!.runOnce();

    const late = makeRecord({ study: '1.9.1', series: '1.9.1.9', seriesNumber: 9, sop: '1.9.1.9.0', instanceNumber: 1, modality: 'US' });
    late.study.accessionNumber = 'ACC-1.9.1';
    expect(await parts.store.mergeInstances([late])).toEqual(['1.9.1']);
    const begun = (await parts.store.beginPublish('1.9.1'))!;
    const after = mapImagingStudy(begun.state, MAPPING);
    expect(after.numberOfInstances).toBe(11);
    expect(after.numberOfSeries).toBe(3);
    expect(after.series!.map((s) => s.instance!.length)).toEqual([5, 5, 1]);
    expect(after.modality!.map((c) => c.code).sort()).toEqual(['CT', 'MR', 'US']);
    // Merged into what the server has (the resource of the first publish), with the compact previous:
    // the bridge's identifiers and endpoint are not repeated, nothing is lost.
    const onServer = { ...before, id: 'id-1.9.1' };
    const merged = mergeImagingStudy(onServer, after, 'R4', begun.status.lastResource);
    expect(merged).toEqual({ ...after, id: 'id-1.9.1' });

    const at = new Date(clock.now()).toISOString();
    await parts.store.finishPublish('1.9.1', begun.generation, { state: 'published', publishedAt: at, lastResource: after });
    expect((await parts.store.getSummary('1.9.1'))!.publish.lastResource).toEqual(after);
    clock.advance(29 * DAY);
    expect((await parts.retention!.runOnce()).studies).toBe(0);
    clock.advance(2 * DAY);
    expect((await parts.retention!.runOnce()).studies).toBe(1);
  });

  it('never touches pending or failed studies, nor one changed since its publish', async () => {
    const { store } = parts;
    await store.mergeInstances([...studyRecords('1.9.1', 1, 2), ...studyRecords('1.9.2', 1, 2), ...studyRecords('1.9.3', 1, 2)]);
    // 1.9.1 stays pending (never published).
    // 1.9.2 failed (the server refused it), with the resource it sent.
    const begun = (await store.beginPublish('1.9.2'))!;
    const refused = mapImagingStudy(begun.state, MAPPING);
    await store.finishPublish('1.9.2', begun.generation, { state: 'failed', lastError: 'HTTP 422', lastResource: refused });
    await store.recordPublishAttempt('1.9.2', { at: new Date(clock.now()).toISOString(), outcome: 'failed', httpStatus: 422 });
    await store.recordPublishAttempt('1.9.2', { at: new Date(clock.now()).toISOString(), outcome: 'failed', httpStatus: 422 });
    // 1.9.3 published, then changed by a new instance: pending again.
    const published = await publish('1.9.3', 2);
    await store.mergeInstances([makeRecord({ study: '1.9.3', series: '1.9.3.0', sop: '1.9.3.0.99', instanceNumber: 99 })]);

    clock.advance(365 * DAY);
    expect((await parts.retention!.runOnce()).studies).toBe(0);
    expect((await store.getSummary('1.9.1'))!.publish).toMatchObject({ state: 'pending' });
    expect((await store.getSummary('1.9.2'))!.publish).toMatchObject({ state: 'failed', lastResource: refused });
    expect(await store.publishHistory('1.9.2')).toHaveLength(2);
    expect((await store.getSummary('1.9.3'))!.publish).toMatchObject({ state: 'pending', lastResource: published });
    expect(await store.publishHistory('1.9.3')).toHaveLength(2);
  });

  it('works in bounded batches: batchSize studies, and about BATCH_BYTES of resources, per transaction', async () => {
    await parts.close();
    parts = open(40);
    await new Promise((resolve) => setImmediate(resolve));
    const { store } = parts;
    for (let n = 0; n < 100; n++) {
      await store.mergeInstances(studyRecords(`2.${n}`, 1, 1));
      await publish(`2.${n}`);
    }
    clock.advance(31 * DAY);
    const sizes: number[] = [];
    for (let b = await parts.retention!.runBatch(); ; b = await parts.retention!.runBatch()) {
      sizes.push(b.studies);
      if (!b.more) break;
    }
    expect(sizes).toEqual([40, 40, 20]);

    // Three studies of ~600 KB resources: a transaction stops after the one that passes BATCH_BYTES.
    for (let n = 0; n < 3; n++) {
      const uid = `3.${n}`;
      await store.mergeInstances(studyRecords(uid, 1, 1));
      const begun = (await store.beginPublish(uid))!;
      const big = { ...mapImagingStudy(begun.state, MAPPING), note: [{ text: 'x'.repeat(Math.ceil(BATCH_BYTES * 0.6)) }] };
      await store.finishPublish(uid, begun.generation, { state: 'published', publishedAt: new Date(clock.now()).toISOString(), lastResource: big });
    }
    clock.advance(31 * DAY);
    expect(await parts.retention!.runBatch()).toMatchObject({ studies: 2, more: true });
    expect(await parts.retention!.runBatch()).toMatchObject({ studies: 1, more: false });
  });

  it('drops import checkpoints older than the period, keeps newer ones', async () => {
    const { checkpoints } = parts;
    // Checkpoints are stamped with the wall clock: the retention clock is set from it.
    await checkpoints.mark('run-a', '1.9.1', 10);
    await checkpoints.mark('run-a', '1.9.2', 5);
    clock.set(Date.now() + 29 * DAY);
    expect((await parts.retention!.runOnce()).checkpoints).toBe(0);
    expect(await checkpoints.done('run-a')).toEqual(new Set(['1.9.1', '1.9.2']));
    clock.set(Date.now() + 31 * DAY);
    expect((await parts.retention!.runOnce()).checkpoints).toBe(2);
    expect(await checkpoints.done('run-a')).toEqual(new Set());
  });

  it('takes the retainable-studies index, not a scan of every study', async () => {
    await parts.close();
    const db = new Database(path.join(dir, 'bridge.sqlite'));
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${CANDIDATES_SQL}`).all('2026-01-01', 10) as { detail: string }[];
    db.close();
    parts = open();
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX studies_retainable \(published_at<\?\)/);
  });
});
