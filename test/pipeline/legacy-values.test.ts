/**
 * Values stored before precedences were (SQLite schema 2, Redis JSON values):
 * they read as before and merge as C-STORE values of their receivedAt
 * (merge.ts legacyPrecedence), so an upgrade needs no data migration.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { RedisStudyStore, studyKeys } from '../../src/pipeline/redis/index.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import type { StudyStore } from '../../src/pipeline/study-store.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { makeRecord, silentLogger, tempDir } from './helpers.js';

const t = (second: number): string => `2024-01-15T10:20:${String(second).padStart(2, '0')}.000Z`;

/** The stored study, with body part CHEST, description "old", instance I1 labelled OLD, received at t(10). */
function legacyRecord(): InstanceRecord {
  const record = makeRecord({ sop: 'I1', instanceNumber: 1, studyDescription: 'old', receivedAt: t(10) });
  record.series.bodyPartExamined = 'CHEST';
  record.instance.contentLabel = 'OLD';
  return record;
}

/** What a later C-STORE, an earlier one and an import do to the legacy study, in every store. */
async function mergeOverLegacy(store: StudyStore): Promise<void> {
  const before = await store.getStudy('1.2.3');
  expect(before?.series[0]?.attributes.bodyPartExamined).toBe('CHEST');
  expect(before?.series[0]?.instances[0]).toMatchObject({ sopInstanceUid: 'I1', contentLabel: 'OLD', instanceNumber: 1 });
  await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });

  // An import received later replaces no C-STORE value; it fills in the accession.
  const imported = makeRecord({ sop: 'I1', instanceNumber: 7, studyDescription: 'archive', receivedAt: t(30) });
  imported.receipt.source = 'c-find';
  imported.study.accessionNumber = 'A-1';
  await store.mergeInstances([imported]);
  // An older C-STORE replaces nothing; a later one without body part or label keeps them.
  await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 3, studyDescription: 'older', receivedAt: t(5) })]);
  await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 2, studyDescription: 'new', receivedAt: t(20) })]);
  const after = await store.getStudy('1.2.3');
  expect(after?.study).toMatchObject({ studyDescription: 'new', accessionNumber: 'A-1' });
  expect(after?.series[0]?.attributes.bodyPartExamined).toBe('CHEST');
  expect(after?.series[0]?.instances[0]).toMatchObject({ sopInstanceUid: 'I1', contentLabel: 'OLD', instanceNumber: 2 });
  expect(after?.lastReceipt.source).toBeUndefined();
  expect(await store.getSummary('1.2.3')).toMatchObject({ firstReceivedAt: t(5), lastReceivedAt: t(30), numberOfInstances: 1 });
}

describe('values stored before precedences', () => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  it('SQLite: a schema-2 database merges its rows as C-STORE values of their receivedAt', async () => {
    const tmp = await tempDir('legacy-values-');
    remove = tmp.remove;
    const first = openSqlitePipeline({ dataDir: tmp.dir, logger: silentLogger });
    await first.store.mergeInstances([legacyRecord()]);
    await first.close();
    // As schema 2 left it: no precedence columns (their values NULL once migrated).
    const raw = new Database(path.join(tmp.dir, 'bridge.sqlite'));
    // Schema 5's retention column, index and trigger first.
    raw.exec('DROP TRIGGER studies_unretain; DROP INDEX studies_retainable; ALTER TABLE studies DROP COLUMN retained_at;');
    raw.exec(
      'ALTER TABLE studies DROP COLUMN origins; ALTER TABLE series DROP COLUMN origins; ALTER TABLE instances DROP COLUMN origins; ' +
        'ALTER TABLE instances DROP COLUMN precedence; DROP TABLE import_checkpoints;',
    );
    raw.pragma('user_version = 2');
    raw.close();

    const pipeline = openSqlitePipeline({ dataDir: tmp.dir, logger: silentLogger });
    try {
      await mergeOverLegacy(pipeline.store);
    } finally {
      await pipeline.close();
    }
  });

  describe('Redis', () => {
    let server: TestRedis;
    let client: Redis;
    beforeAll(async () => {
      server = await startRedis({ appendfsync: 'no' });
      client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    });
    afterAll(async () => {
      await client?.quit();
      await server?.stop();
    });

    it('JSON values (as the merge wrote them before attribute lists) merge as C-STORE values of their receivedAt', async () => {
      const record = legacyRecord();
      const k = studyKeys('legacy', '1.2.3');
      const json = (value: object) => JSON.stringify(value, Object.keys(value).sort());
      await client.hset(k.study, {
        lastReceivedAt: t(10),
        firstReceivedAt: t(10),
        patient: JSON.stringify(record.patient),
        study: json(record.study),
        charset: record.specificCharacterSet!,
        callingAe: record.receipt.callingAeTitle,
        lastReceipt: JSON.stringify(record.receipt),
        state: 'pending',
        attempts: '0',
      });
      await client.hset(k.series, record.series.seriesInstanceUid, `${t(10)}\t${json(record.series)}`);
      await client.hset(k.instances, 'I1', `${t(10)}\t${record.series.seriesInstanceUid}\t${json(record.instance)}`);
      await client.hset(k.seriesSizes, record.series.seriesInstanceUid, '1');
      const store = new RedisStudyStore({ client, logger: silentLogger, prefix: 'legacy' });
      try {
        await mergeOverLegacy(store);
      } finally {
        await store.close();
      }
    });
  });
});
