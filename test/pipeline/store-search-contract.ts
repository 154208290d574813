/**
 * The StudyStore contract of the admin console's methods (searchSummaries,
 * recordPublishAttempt, publishHistory), run against each implementation
 * (store-search-sqlite.test.ts, redis/store-search-redis.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { PUBLISH_HISTORY_LIMIT, type PublishAttempt, type StudySearch, type StudyStore } from '../../src/pipeline/study-store.js';
import { kosRecord, makeRecord } from './helpers.js';
import type { StoreUnderTest } from './store-contract.js';

const at = (minute: number, second = 0): string =>
  `2024-03-01T10:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}.000Z`;

interface StudySpec {
  study: string;
  sop?: string;
  series?: string;
  modality?: string;
  receivedAt: string;
  patientId?: string;
  accessionNumber?: string;
  studyDate?: string | null;
  studyDescription?: string;
  patientName?: string;
  callingAeTitle?: string;
}

function record(spec: StudySpec): InstanceRecord {
  const r = makeRecord({
    study: spec.study,
    series: spec.series ?? `${spec.study}.1`,
    sop: spec.sop ?? `${spec.study}.1.1`,
    receivedAt: spec.receivedAt,
    patientId: spec.patientId ?? 'P1',
    modality: spec.modality ?? 'CT',
    callingAeTitle: spec.callingAeTitle ?? 'MODALITY',
  });
  if (spec.accessionNumber !== undefined) r.study.accessionNumber = spec.accessionNumber;
  if (spec.studyDate === null) delete r.study.studyDate;
  else if (spec.studyDate !== undefined) r.study.studyDate = spec.studyDate;
  if (spec.studyDescription !== undefined) r.study.studyDescription = spec.studyDescription;
  if (spec.patientName !== undefined) r.patient.patientName = { alphabetic: spec.patientName };
  return r;
}

export function describeStudySearchContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`StudyStore contract, the admin console: ${name}`, () => {
    let store: StudyStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    const uids = async (search: StudySearch, offset = 0, limit = 50) =>
      (await store.searchSummaries(search, { offset, limit })).studies.map((s) => s.studyInstanceUid);
    const total = async (search: StudySearch) => (await store.searchSummaries(search, { offset: 0, limit: 1 })).total;

    /** Seven studies S1…S7, received a minute apart (S7 newest); patients, accessions, dates and states vary. */
    async function seven(): Promise<void> {
      await store.mergeInstances([
        record({ study: 'S1', receivedAt: at(1), patientId: 'PA', accessionNumber: 'ACC1', studyDate: '20240101' }),
        record({ study: 'S2', receivedAt: at(2), patientId: 'PB', accessionNumber: 'ACC2', studyDate: '20240115' }),
        record({ study: 'S3', receivedAt: at(3), patientId: 'PA', accessionNumber: 'ACC3', studyDate: '20240131' }),
        record({ study: 'S4', receivedAt: at(4), patientId: 'PC', accessionNumber: 'ACC4', studyDate: '20240201' }),
        record({ study: 'S5', receivedAt: at(5), patientId: 'PA', accessionNumber: 'ACC2', studyDate: null }),
        record({ study: 'S6', receivedAt: at(6), patientId: 'PB', studyDate: '2024.02.10' }),
        record({ study: 'S7', receivedAt: at(7), patientId: 'PD', accessionNumber: 'ACC7', studyDate: '20240301' }),
      ]);
      await store.setPublishStatus('S2', { state: 'failed', attempts: 1, lastError: 'HTTP 422: refused' });
      await store.setPublishStatus('S3', { state: 'published', attempts: 1 });
      await store.setPublishStatus('S5', { state: 'failed', attempts: 2, lastError: 'HTTP 422: refused again' });
      await store.setPublishStatus('S7', { state: 'published', attempts: 1 });
    }

    describe('searchSummaries', () => {
      it('an empty store: total 0, no studies', async () => {
        expect(await store.searchSummaries({}, { offset: 0, limit: 10 })).toEqual({ total: 0, studies: [] });
      });

      it('pages newest first (by last received), with the total on every page', async () => {
        await seven();
        expect(await uids({}, 0, 3)).toEqual(['S7', 'S6', 'S5']);
        expect(await uids({}, 3, 3)).toEqual(['S4', 'S3', 'S2']);
        expect(await uids({}, 6, 3)).toEqual(['S1']);
        expect(await store.searchSummaries({}, { offset: 9, limit: 3 })).toEqual({ total: 7, studies: [] });
        for (const offset of [0, 3, 6]) expect((await store.searchSummaries({}, { offset, limit: 3 })).total).toBe(7);
      });

      it('ties of last received are ordered by Study Instance UID, descending, on every path', async () => {
        await store.mergeInstances(['T2', 'T1', 'T3'].map((study) => record({ study, receivedAt: at(1), patientId: 'PT', studyDate: '20240101' })));
        expect(await uids({})).toEqual(['T3', 'T2', 'T1']);
        expect(await uids({ patientId: 'PT' })).toEqual(['T3', 'T2', 'T1']);
        expect(await uids({ studyDateFrom: '20240101' })).toEqual(['T3', 'T2', 'T1']);
        expect(await uids({ state: 'pending' }, 1, 2)).toEqual(['T2', 'T1']);
      });

      it('by Study Instance UID: the exact UID only', async () => {
        await seven();
        expect(await uids({ studyInstanceUid: 'S3' })).toEqual(['S3']);
        expect(await uids({ studyInstanceUid: 'S' })).toEqual([]);
        expect(await uids({ studyInstanceUid: 'S3', state: 'failed' })).toEqual([]);
        expect(await uids({ studyInstanceUid: 'S3', patientId: 'PA' })).toEqual(['S3']);
        expect(await uids({ studyInstanceUid: 'S3', patientId: 'PB' })).toEqual([]);
      });

      it('by accession number and by patient ID, exactly, alone or together', async () => {
        await seven();
        expect(await uids({ accessionNumber: 'ACC2' })).toEqual(['S5', 'S2']);
        expect(await uids({ accessionNumber: 'ACC' })).toEqual([]);
        expect(await uids({ patientId: 'PA' })).toEqual(['S5', 'S3', 'S1']);
        expect(await uids({ patientId: 'pa' })).toEqual([]);
        expect(await uids({ patientId: 'PA', accessionNumber: 'ACC2' })).toEqual(['S5']);
        expect(await total({ patientId: 'PA' })).toBe(3);
        expect(await uids({ patientId: 'PA' }, 1, 1)).toEqual(['S3']);
      });

      it('by publish state, alone and with other criteria', async () => {
        await seven();
        expect(await uids({ state: 'failed' })).toEqual(['S5', 'S2']);
        expect(await uids({ state: 'published' })).toEqual(['S7', 'S3']);
        expect(await uids({ state: 'pending' })).toEqual(['S6', 'S4', 'S1']);
        expect(await uids({ state: 'failed', patientId: 'PB' })).toEqual(['S2']);
        expect(await uids({ state: 'published', accessionNumber: 'ACC2' })).toEqual([]);
        expect(await total({ state: 'pending' })).toBe(3);
      });

      it('by study date, inclusive at both ends; a study without a valid date is in no date range', async () => {
        await seven();
        expect(await uids({ studyDateFrom: '20240115', studyDateTo: '20240201' })).toEqual(['S4', 'S3', 'S2']);
        expect(await uids({ studyDateFrom: '20240201' })).toEqual(['S7', 'S4']);
        expect(await uids({ studyDateTo: '20240101' })).toEqual(['S1']);
        expect(await uids({ studyDateFrom: '19000101' })).toEqual(['S7', 'S4', 'S3', 'S2', 'S1']);
        expect(await uids({ studyDateFrom: '20240101', studyDateTo: '20240131', patientId: 'PA' })).toEqual(['S3', 'S1']);
        expect(await uids({ studyDateFrom: '20240101', state: 'failed' })).toEqual(['S2']);
      });

      it('by the time of the last received instance: from inclusive, before exclusive', async () => {
        await seven();
        expect(await uids({ receivedFrom: at(3), receivedBefore: at(6) })).toEqual(['S5', 'S4', 'S3']);
        expect(await uids({ receivedFrom: at(6) })).toEqual(['S7', 'S6']);
        expect(await uids({ receivedBefore: at(2) })).toEqual(['S1']);
        expect(await uids({ receivedFrom: at(2), state: 'failed' })).toEqual(['S5', 'S2']);
        expect(await uids({ receivedFrom: at(2), patientId: 'PA' })).toEqual(['S5', 'S3']);
        expect(await uids({ receivedFrom: at(1, 30), studyDateTo: '20240131' })).toEqual(['S3', 'S2']);
        // Another form of the same instant (an offset) is the same bound.
        expect(await uids({ receivedFrom: '2024-03-01T11:06:00+01:00' })).toEqual(['S7', 'S6']);
        expect(await total({ receivedFrom: at(3), receivedBefore: at(6) })).toBe(3);
      });

      it('lists what identifies a study to a person, its counts and publish status, without its last resource', async () => {
        await store.mergeInstances([
          record({ study: 'L1', sop: 'L1.1.1', series: 'L1.1', modality: 'MR', receivedAt: at(1), patientId: 'PL', accessionNumber: 'ACCL', studyDate: '20240105', studyDescription: 'Brain', patientName: 'DOE^JANE', callingAeTitle: 'MRI_1' }),
          record({ study: 'L1', sop: 'L1.1.2', series: 'L1.1', modality: 'MR', receivedAt: at(1), patientId: 'PL', accessionNumber: 'ACCL', studyDate: '20240105', studyDescription: 'Brain', patientName: 'DOE^JANE', callingAeTitle: 'MRI_1' }),
          record({ study: 'L1', sop: 'L1.2.1', series: 'L1.2', modality: 'SR', receivedAt: at(2), patientId: 'PL', accessionNumber: 'ACCL', studyDate: '20240105', studyDescription: 'Brain', patientName: 'DOE^JANE', callingAeTitle: 'MRI_1' }),
          record({ study: 'L1', sop: 'L1.3.1', series: 'L1.3', modality: 'MR', receivedAt: at(2), patientId: 'PL', accessionNumber: 'ACCL', studyDate: '20240105', studyDescription: 'Brain', patientName: 'DOE^JANE', callingAeTitle: 'MRI_1' }),
        ]);
        await store.setPublishStatus('L1', { state: 'failed', attempts: 3, lastError: 'HTTP 422: subject is required', lastResource: { resourceType: 'ImagingStudy' } });
        const { total: n, studies } = await store.searchSummaries({ patientId: 'PL' }, { offset: 0, limit: 10 });
        expect(n).toBe(1);
        expect(studies[0]).toEqual({
          studyInstanceUid: 'L1',
          numberOfSeries: 3,
          numberOfInstances: 4,
          firstReceivedAt: at(1),
          lastReceivedAt: at(2),
          publish: { state: 'failed', attempts: 3, lastError: 'HTTP 422: subject is required' },
          patientId: 'PL',
          patientName: { alphabetic: 'DOE^JANE' },
          accessionNumber: 'ACCL',
          studyDate: '20240105',
          studyDescription: 'Brain',
          modalities: ['MR', 'SR'],
          callingAeTitle: 'MRI_1',
        });
      });

      it('follows changes: a corrected patient ID, accession and date move the study; a newer instance moves it to the front', async () => {
        await seven();
        await store.mergeInstances([record({ study: 'S1', sop: 'S1.1.2', receivedAt: at(9), patientId: 'PZ', accessionNumber: 'ACCZ', studyDate: '20230505' })]);
        expect(await uids({ patientId: 'PA' })).toEqual(['S5', 'S3']);
        expect(await uids({ patientId: 'PZ' })).toEqual(['S1']);
        expect(await uids({ accessionNumber: 'ACC1' })).toEqual([]);
        expect(await uids({ accessionNumber: 'ACCZ' })).toEqual(['S1']);
        expect(await uids({ studyDateTo: '20231231' })).toEqual(['S1']);
        expect(await uids({ studyDateFrom: '20240101', studyDateTo: '20240101' })).toEqual([]);
        expect(await uids({}, 0, 2)).toEqual(['S1', 'S7']);
        expect(await uids({ receivedFrom: at(8) })).toEqual(['S1']);
        // It changed, so it is pending again.
        expect(await uids({ state: 'pending' })).toEqual(['S1', 'S6', 'S4']);
        const [listing] = (await store.searchSummaries({ studyInstanceUid: 'S1' }, { offset: 0, limit: 1 })).studies;
        expect(listing).toMatchObject({ patientId: 'PZ', accessionNumber: 'ACCZ', numberOfInstances: 2 });
      });

      it('a study whose instances are all rejected stays listed, with no instances', async () => {
        await seven();
        await store.mergeInstances([kosRecord({ sop: 'KOS1', study: 'S4', title: '113039', refs: [{ study: 'S4', series: 'S4.1', sop: 'S4.1.1' }], receivedAt: at(10) })]);
        const [listing] = (await store.searchSummaries({ accessionNumber: 'ACC4' }, { offset: 0, limit: 1 })).studies;
        expect(listing).toMatchObject({ studyInstanceUid: 'S4', numberOfInstances: 0, numberOfSeries: 0, modalities: [] });
      });

      it('refuses a page or a criterion it cannot read, naming it', async () => {
        await expect(store.searchSummaries({}, { offset: 0, limit: 0 })).rejects.toThrow(/limit/);
        await expect(store.searchSummaries({}, { offset: -1, limit: 5 })).rejects.toThrow(/offset/);
        await expect(store.searchSummaries({ studyDateFrom: '2024-01-01' }, { offset: 0, limit: 5 })).rejects.toThrow(/studyDateFrom/);
        await expect(store.searchSummaries({ receivedFrom: 'yesterday' }, { offset: 0, limit: 5 })).rejects.toThrow(/receivedFrom/);
        await expect(store.searchSummaries({ state: 'lost' as never }, { offset: 0, limit: 5 })).rejects.toThrow(/state/);
      });
    });

    describe('publish history', () => {
      const attempt = (n: number, extra: Partial<PublishAttempt> = {}): PublishAttempt => ({
        at: `2024-03-01T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
        outcome: 'retry',
        httpStatus: 503,
        error: `attempt ${n}`,
        durationMs: n,
        ...extra,
      });

      it('keeps the newest attempts of each study, newest first', async () => {
        await store.mergeInstances([record({ study: 'H1', receivedAt: at(1) }), record({ study: 'H2', receivedAt: at(1) })]);
        for (let n = 1; n <= PUBLISH_HISTORY_LIMIT + 5; n++) await store.recordPublishAttempt('H1', attempt(n));
        await store.recordPublishAttempt('H2', { at: at(2), outcome: 'published', httpStatus: 201, durationMs: 12 });
        const history = await store.publishHistory('H1');
        expect(history).toHaveLength(PUBLISH_HISTORY_LIMIT);
        expect(history[0]).toEqual(attempt(PUBLISH_HISTORY_LIMIT + 5));
        expect(history.at(-1)).toEqual(attempt(6));
        expect(await store.publishHistory('H2')).toEqual([{ at: at(2), outcome: 'published', httpStatus: 201, durationMs: 12 }]);
      });

      it('is empty for a study without attempts and for an unknown study', async () => {
        await store.mergeInstances([record({ study: 'H3', receivedAt: at(1) })]);
        expect(await store.publishHistory('H3')).toEqual([]);
        expect(await store.publishHistory('nope')).toEqual([]);
      });
    });
  });
}
