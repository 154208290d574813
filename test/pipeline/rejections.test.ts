/**
 * IHE IOCM rejection notes outside the store contract: the ImagingStudy of a
 * study left empty, the SCP-side check (warning B006H), the SQLite schema
 * migration of an existing database.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it, test } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import type { RejectionReason } from '../../src/dicom/key-object-document.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import { rejectedOutcome, rejectionCheckingStoreHandler, STATUS_ELEMENTS_DISCARDED } from '../../src/pipeline/rejection-check.js';
import { openDatabase, SCHEMA_VERSION } from '../../src/pipeline/sqlite/database.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import type { Rejection, StudyState } from '../../src/dicom/study-state.js';
import { assertStu3ImagingStudyShape, validateR4, validateR5 } from '../support/fhir-validate.js';
import { fullStudy, options } from '../fhir/fixtures.js';
import { makeRecord, silentLogger, tempDir } from './helpers.js';

const r4 = (state: StudyState) => mapImagingStudy(state, { ...options(), fhirVersion: 'R4' as const });
const r5 = (state: StudyState) => mapImagingStudy(state, { ...options(), fhirVersion: 'R5' as const });
const stu3 = (state: StudyState) => mapImagingStudy(state, { ...options(), fhirVersion: 'STU3' as const });

function emptiedStudy(reason: RejectionReason): StudyState {
  return { ...fullStudy(), series: [], rejection: { reason, kosSopInstanceUid: '1.2.3.999' } };
}

describe('ImagingStudy of a study left empty by rejection notes', () => {
  const cases: Array<[RejectionReason, 'entered-in-error' | 'cancelled']> = [
    ['113001', 'cancelled'],
    ['113037', 'entered-in-error'],
    ['113038', 'entered-in-error'],
    ['113039', 'cancelled'],
  ];

  test.each(cases)('reason %s → R4 and R5 status %s, STU3 availability UNAVAILABLE; valid', (reason, status) => {
    const state = emptiedStudy(reason);
    const inR4 = r4(state);
    expect(inR4).toMatchObject({ status, numberOfSeries: 0, numberOfInstances: 0 });
    expect(inR4.series).toBeUndefined();
    expect(inR4.modality).toBeUndefined();
    expect(validateR4(inR4)).toEqual([]);

    const inR5 = r5(state);
    expect(inR5).toMatchObject({ status, numberOfSeries: 0, numberOfInstances: 0 });
    expect(validateR5(inR5)).toEqual([]);

    const inStu3 = stu3(state);
    expect(inStu3.availability).toBe('UNAVAILABLE');
    expect(assertStu3ImagingStudyShape(inStu3)).toEqual([]);
  });

  it('a study with instances left stays available whatever its latest rejection', () => {
    const state: StudyState = { ...fullStudy(), rejection: { reason: '113038', kosSopInstanceUid: '1.2.3.999' } };
    expect(r4(state).status).toBe('available');
    expect(r5(state).status).toBe('available');
    expect(stu3(state).availability).toBe('ONLINE');
  });

  it('keeps the status in its place in the element order', () => {
    const keys = Object.keys(r4(emptiedStudy('113037')));
    expect(keys.slice(0, 3)).toEqual(['resourceType', 'identifier', 'status']);
  });
});

describe('SCP rejection check', () => {
  const record = makeRecord({ study: '1.2.3', sop: 'I1' });
  const rejection: Rejection = { reason: '113001', kosSopInstanceUid: '1.2.826.0.1.3680043.8.498.77' };

  function setup(found: Rejection | undefined | Error) {
    const queued: InstanceRecord[] = [];
    const asked: Array<[string, string]> = [];
    const handler = rejectionCheckingStoreHandler({
      store: {
        rejectionOf: async (study, sop) => {
          asked.push([study, sop]);
          if (found instanceof Error) throw found;
          return found;
        },
      },
      queue: { addInstance: async (r) => void queued.push(r) },
      logger: silentLogger,
    });
    return { handler, queued, asked };
  }

  it('answers a rejected instance with warning B006 (Elements Discarded) naming the note, and does not queue it', async () => {
    const { handler, queued, asked } = setup(rejection);
    const outcome = await handler(record);
    expect(asked).toEqual([['1.2.3', 'I1']]);
    expect(outcome).toEqual({
      status: 0xb006,
      // The full 'rejected by KOS <uid> (DCM <reason>); not stored' would pass 64 characters with this UID.
      errorComment: 'rejected by KOS 1.2.826.0.1.3680043.8.498.77 (DCM 113001)',
    });
    expect(outcome && outcome.errorComment!.length).toBeLessThanOrEqual(64);
    expect(queued).toEqual([]);
  });

  it('queues an instance that is not rejected (success)', async () => {
    const { handler, queued } = setup(undefined);
    expect(await handler(record)).toBeUndefined();
    expect(queued).toEqual([record]);
  });

  it('queues the instance when the store cannot be asked (the merge still skips it if rejected)', async () => {
    const { handler, queued } = setup(new Error('store down'));
    expect(await handler(record)).toBeUndefined();
    expect(queued).toEqual([record]);
  });

  it('with a queue that checks and queues in one step, asks only the queue (the store is not asked)', async () => {
    const asked: string[] = [];
    const handlerFor = (answer: Rejection | undefined | Error) =>
      rejectionCheckingStoreHandler({
        store: { rejectionOf: async () => void asked.push('store') },
        queue: {
          addInstance: async () => void asked.push('addInstance'),
          addInstanceUnlessRejected: async () => {
            asked.push('one step');
            if (answer instanceof Error) throw answer;
            return answer;
          },
        },
        logger: silentLogger,
      });
    expect(await handlerFor(rejection)(record)).toMatchObject({ status: STATUS_ELEMENTS_DISCARDED });
    expect(await handlerFor(undefined)(record)).toBeUndefined();
    // A down queue rejects: the SCP answers A700H, as with addInstance.
    await expect(handlerFor(new Error('redis down'))(record)).rejects.toThrow('redis down');
    expect(asked).toEqual(['one step', 'one step', 'one step']);
    // A record without its UIDs has nothing to look up: queued as before.
    const noUid = makeRecord({ study: '1.2.3', sop: 'I1' });
    delete (noUid.instance as { sopInstanceUid?: string }).sopInstanceUid;
    expect(await handlerFor(undefined)(noUid)).toBeUndefined();
    expect(asked.at(-1)).toBe('addInstance');
  });

  it('says "not stored" when the note UID leaves room for it', () => {
    expect(rejectedOutcome({ reason: '113038', kosSopInstanceUid: '1.2.840.99.1' })).toEqual({
      status: STATUS_ELEMENTS_DISCARDED,
      errorComment: 'rejected by KOS 1.2.840.99.1 (DCM 113038); not stored',
    });
  });

  it('keeps the Error Comment within 64 characters (LO) for a 64-character note UID', () => {
    const uid = `1.2.${'9'.repeat(60)}`;
    expect(uid).toHaveLength(64);
    const outcome = rejectedOutcome({ reason: '113039', kosSopInstanceUid: uid });
    expect(outcome).toEqual({ status: STATUS_ELEMENTS_DISCARDED, errorComment: 'rejected (DCM 113039); not stored' });
  });
});

describe('SQLite schema migration', () => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  it('migrates a version-1 database with studies in it; the studies keep their instances and can be rejected', async () => {
    const tmp = await tempDir('rejections-migrate-');
    remove = tmp.remove;
    // A database as the previous release left it: schema 1 with one study of two instances.
    const first = openSqlitePipeline({ dataDir: tmp.dir, logger: silentLogger });
    await first.store.mergeInstances([makeRecord({ sop: 'I1' }), makeRecord({ sop: 'I2' })]);
    await first.close();
    const raw = new Database(path.join(tmp.dir, 'bridge.sqlite'));
    // (Schema 3's columns and table go first, then schema 2's.)
    // Schema 5's retention column, index and trigger first.
    raw.exec('DROP TRIGGER studies_unretain; DROP INDEX studies_retainable; ALTER TABLE studies DROP COLUMN retained_at;');
    raw.exec(
      'ALTER TABLE studies DROP COLUMN origins; ALTER TABLE series DROP COLUMN origins; ALTER TABLE instances DROP COLUMN origins; ' +
        'ALTER TABLE instances DROP COLUMN precedence; DROP TABLE import_checkpoints;',
    );
    raw.exec('DROP TABLE rejection_notes; DROP TABLE rejections; DROP TABLE study_rejections; ALTER TABLE instances DROP COLUMN key_object;');
    raw.pragma('user_version = 1');
    raw.close();

    const db = openDatabase(tmp.dir, 'FULL');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(5);
    db.close();

    const pipeline = openSqlitePipeline({ dataDir: tmp.dir, logger: silentLogger });
    try {
      expect((await pipeline.store.getSummary('1.2.3'))?.numberOfInstances).toBe(2);
      const note = makeRecord({ sop: 'K1', series: 'KO', modality: 'KO' });
      note.keyObject = {
        title: { codeValue: '113001', codingSchemeDesignator: 'DCM' },
        isRejection: true,
        rejectionReason: '113001',
        references: [{ studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.1', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: 'I1' }],
      };
      expect(await pipeline.store.mergeInstances([note])).toEqual(['1.2.3']);
      const state = await pipeline.store.getStudy('1.2.3');
      expect(state?.series[0]?.instances.map((i) => i.sopInstanceUid)).toEqual(['I2']);
      expect(state?.rejection).toEqual({ reason: '113001', kosSopInstanceUid: 'K1' });
    } finally {
      await pipeline.close();
    }
  });

  it('keeps each rejection note, whole, in its own table', async () => {
    const tmp = await tempDir('rejections-audit-');
    remove = tmp.remove;
    const pipeline = openSqlitePipeline({ dataDir: tmp.dir, logger: silentLogger });
    const note = makeRecord({ sop: 'K1', series: 'KO', modality: 'KO', receivedAt: '2024-01-15T10:21:00.000Z' });
    note.keyObject = {
      title: { codeValue: '113037', codingSchemeDesignator: 'DCM' },
      isRejection: true,
      rejectionReason: '113037',
      references: [{ studyInstanceUid: '7.7', seriesInstanceUid: '7.7.1', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: 'X1' }],
    };
    try {
      await pipeline.store.mergeInstances([note]);
    } finally {
      await pipeline.close();
    }
    const db = new Database(path.join(tmp.dir, 'bridge.sqlite'), { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM rejection_notes').get() as Record<string, string>;
      expect(row).toMatchObject({ kos_sop_uid: 'K1', study_uid: '1.2.3', series_uid: 'KO', reason: '113037', received_at: '2024-01-15T10:21:00.000Z' });
      expect(JSON.parse(row.record!)).toEqual(note);
      expect(db.prepare('SELECT study_uid, sop_uid, reason, kos_sop_uid FROM rejections').all()).toEqual([
        { study_uid: '7.7', sop_uid: 'X1', reason: '113037', kos_sop_uid: 'K1' },
      ]);
      // The note is not an instance of its own study, which it did not create.
      expect(db.prepare('SELECT COUNT(*) AS n FROM instances').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT COUNT(*) AS n FROM studies').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});
