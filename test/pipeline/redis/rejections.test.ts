/**
 * Redis specifics of rejection notes: every new per-study key lives in the
 * study's hash slot, the note is kept (auditable) under each study it
 * references, and a note referencing two studies is applied to each.
 */
import { describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../../src/dicom/instance-record.js';
import { RedisStudyStore, studyKeys } from '../../../src/pipeline/redis/index.js';
import { instanceStreamKeys, studyNoteKeys } from '../../../src/pipeline/redis/keys.js';
import { RedisJobQueue } from '../../../src/pipeline/redis/job-queue.js';
import { buildRejectedCopy } from '../../../src/pipeline/redis/rejected-copy.js';
import { rejectionCheckingStoreHandler } from '../../../src/pipeline/rejection-check.js';
import { makeRecord, silentLogger } from '../helpers.js';
import { useRedisServer } from '../../support/redis-server.js';

const redis = useRedisServer({ flushAfterEach: true });

function note(sop: string, refs: Array<[study: string, sop: string]>): InstanceRecord {
  const record = makeRecord({ study: '1.2.840.1', series: 'KO', sop, modality: 'KO' });
  record.keyObject = {
    title: { codeValue: '113037', codingSchemeDesignator: 'DCM' },
    isRejection: true,
    rejectionReason: '113037',
    references: refs.map(([study, uid]) => ({
      studyInstanceUid: study,
      seriesInstanceUid: `${study}.1`,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: uid,
    })),
  };
  return record;
}

describe('RedisStudyStore rejection notes', () => {
  it('keeps rejections, the latest rejection, the notes and key objects in the study slot', async () => {
    const store = new RedisStudyStore({ client: redis.client, logger: silentLogger });
    const kos = makeRecord({ study: '1.2.840.1', series: 'KO', sop: 'K20', modality: 'KO' });
    kos.keyObject = {
      title: { codeValue: '113020', codingSchemeDesignator: 'DCM' },
      isRejection: false,
      references: [{ studyInstanceUid: '1.2.840.1', seriesInstanceUid: 'S1', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: 'a1' }],
    };
    await store.mergeInstances([
      makeRecord({ study: '1.2.840.1', series: 'S1', sop: 'a1' }),
      makeRecord({ study: '1.2.840.1', series: 'S1', sop: 'a2' }),
      makeRecord({ study: '1.2.840.2', series: 'S1', sop: 'b1' }),
      kos,
    ]);
    const changed = await store.mergeInstances([note('K1', [['1.2.840.1', 'a2'], ['1.2.840.2', 'b1']])]);
    expect([...changed].sort()).toEqual(['1.2.840.1', '1.2.840.2']);

    for (const study of ['1.2.840.1', '1.2.840.2']) {
      const k = { ...studyKeys('dfb', study), ...studyNoteKeys('dfb', study) };
      // Same hash tag as the study hash, so the same Cluster slot (the test server is no cluster).
      for (const key of [k.rejections, k.studyRejection, k.rejectionNotes]) {
        expect(key.startsWith(`dfb:{${study}}:`)).toBe(true);
        expect(await redis.client.exists(key)).toBe(1);
      }
      // The note, whole, under each study it references.
      const [receivedAt, json] = (await redis.client.hget(k.rejectionNotes, 'K1'))!.split('\t');
      expect(receivedAt).toBe('2024-01-15T10:20:00.000Z');
      expect(JSON.parse(json!).keyObject.rejectionReason).toBe('113037');
    }
    const keys = (await redis.client.keys('dfb:{*')).filter((k) => !k.startsWith('dfb:{index}:') && !k.startsWith('dfb:{instance-stream}:'));
    const k1 = { ...studyKeys('dfb', '1.2.840.1'), ...studyNoteKeys('dfb', '1.2.840.1') };
    const k2 = { ...studyKeys('dfb', '1.2.840.2'), ...studyNoteKeys('dfb', '1.2.840.2') };
    // Study 2's series, instances and series-size hashes went with its last instance.
    expect(keys.sort()).toEqual(
      [
        k1.study, k1.series, k1.instances, k1.seriesSizes, k1.keyObjects, k1.rejections, k1.studyRejection, k1.rejectionNotes,
        k2.study, k2.rejections, k2.studyRejection, k2.rejectionNotes,
      ].sort(),
    );
    for (const key of keys) expect(key).toMatch(/^dfb:\{1\.2\.840\.[12]\}:/);
    expect(await redis.client.hkeys(studyNoteKeys('dfb', '1.2.840.1').keyObjects)).toEqual(['K20']);
    expect(await redis.client.hkeys(studyKeys('dfb', '1.2.840.1').instances)).toEqual(expect.arrayContaining(['a1', 'K20']));
    expect(await redis.client.hlen(studyKeys('dfb', '1.2.840.1').instances)).toBe(2);
    // Study 2 is left empty: no series, the reason kept.
    expect(await redis.client.hlen(studyKeys('dfb', '1.2.840.2').seriesSizes)).toBe(0);
    expect((await store.getStudy('1.2.840.2'))?.rejection).toEqual({ reason: '113037', kosSopInstanceUid: 'K1' });
  });
});

describe('the receivers\' rejection check (one script with the enqueue)', () => {
  const stream = instanceStreamKeys('dfb');

  function queueOn(): RedisJobQueue {
    return new RedisJobQueue({ client: redis.client, workerClient: redis.client, logger: silentLogger });
  }

  it('a merged note is copied beside the stream: the re-sent instance gets B006 and is not queued; others are', async () => {
    const store = new RedisStudyStore({ client: redis.client, logger: silentLogger });
    await store.mergeInstances([makeRecord({ study: '1.2.840.1', series: 'S1', sop: 'a1' }), note('K1', [['1.2.840.1', 'a1'], ['1.2.840.2', 'b1']])]);
    expect(await redis.client.hget(stream.rejected, '1.2.840.1\ta1')).toBe('2024-01-15T10:20:00.000Z\t113037\tK1');
    // A note of a study not yet received is copied too (the rejection waits for its instance).
    expect(await redis.client.hget(stream.rejected, '1.2.840.2\tb1')).toMatch(/\t113037\tK1$/);

    const queue = queueOn();
    const handler = rejectionCheckingStoreHandler({
      store: { rejectionOf: () => Promise.reject(new Error('the one-step path does not ask the store')) },
      queue,
      logger: silentLogger,
    });
    try {
      expect(await handler(makeRecord({ study: '1.2.840.1', series: 'S1', sop: 'a1' }))).toEqual({
        status: 0xb006,
        errorComment: 'rejected by KOS K1 (DCM 113037); not stored',
      });
      expect(await redis.client.xlen(stream.records)).toBe(0);
      expect(await handler(makeRecord({ study: '1.2.840.1', series: 'S1', sop: 'a2' }))).toBeUndefined();
      expect(await redis.client.xlen(stream.records)).toBe(1);
      // The same SOP Instance UID in another study is not rejected.
      expect(await queue.addInstanceUnlessRejected(makeRecord({ study: '1.2.840.3', series: 'S1', sop: 'a1' }))).toBeUndefined();
      expect(await redis.client.xlen(stream.records)).toBe(2);
    } finally {
      await queue.close();
    }
  });

  it('a later note wins in the copy as in the study; the copy is built from the study hashes when missing', async () => {
    const store = new RedisStudyStore({ client: redis.client, logger: silentLogger });
    const later = note('K2', [['1.2.840.1', 'a1']]);
    later.receipt.receivedAt = '2024-01-16T00:00:00.000Z';
    await store.mergeInstances([note('K1', [['1.2.840.1', 'a1']]), later]);
    expect(await redis.client.hget(stream.rejected, '1.2.840.1\ta1')).toMatch(/\tK2$/);

    // Data of a version without the copy: built once, then marked.
    await redis.client.del(stream.rejected, stream.rejectedBuilt);
    await buildRejectedCopy(redis.client, 'dfb', silentLogger);
    expect(await redis.client.hget(stream.rejected, '1.2.840.1\ta1')).toBe(await redis.client.hget(studyNoteKeys('dfb', '1.2.840.1').rejections, 'a1'));
    expect(await redis.client.exists(stream.rejectedBuilt)).toBe(1);
    const queue = queueOn();
    try {
      expect(await queue.addInstanceUnlessRejected(makeRecord({ study: '1.2.840.1', series: 'S1', sop: 'a1' }))).toEqual({ reason: '113037', kosSopInstanceUid: 'K2' });
    } finally {
      await queue.close();
    }
  });
});
