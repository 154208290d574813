/**
 * The StudyStore contract, run against each implementation (SQLite, Redis):
 * merge semantics, assembly of the study state, publish status, summaries.
 * Not covered here (implementation-specific): an instance re-sent under
 * another Study Instance UID (SQLite moves it; Redis keeps one copy per study).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StudyStore } from '../../src/pipeline/study-store.js';
import { makeRecord } from './helpers.js';

export interface StoreUnderTest {
  store: StudyStore;
  /** Closes the store and removes what it stored. */
  cleanup(): Promise<void>;
}

const t = (second: number): string => `2024-01-15T10:20:${String(second).padStart(2, '0')}.000Z`;

export function describeStudyStoreContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`StudyStore contract: ${name}`, () => {
    let store: StudyStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('mergeInstances', () => {
      it('is idempotent: an identical re-send of a published study reports nothing and changes nothing', async () => {
        const record = makeRecord({ sop: '1.2.3.1.1', instanceNumber: 1 });
        expect(await store.mergeInstances([record])).toEqual(['1.2.3']);
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        expect(await store.mergeInstances([record])).toEqual([]);
        expect(await store.mergeInstances([makeRecord({ sop: '1.2.3.1.1', instanceNumber: 1, receivedAt: t(30) })])).toEqual([]);
        const summary = await store.getSummary('1.2.3');
        expect(summary).toMatchObject({ numberOfSeries: 1, numberOfInstances: 1, lastReceivedAt: t(30) });
        expect(summary?.publish).toEqual({ state: 'published', attempts: 1 });
      });

      it('reports a re-sent instance of a study still pending (its publish may not be scheduled yet)', async () => {
        const record = makeRecord({ sop: '1.2.3.1.1' });
        await store.mergeInstances([record]);
        expect(await store.mergeInstances([record])).toEqual(['1.2.3']);
        expect((await store.getSummary('1.2.3'))?.numberOfInstances).toBe(1);
      });

      it('counts distinct series and instances', async () => {
        const records = [
          makeRecord({ series: 'S1', sop: 'I1' }),
          makeRecord({ series: 'S1', sop: 'I2' }),
          makeRecord({ series: 'S2', sop: 'I3' }),
          makeRecord({ series: 'S1', sop: 'I1' }),
        ];
        await store.mergeInstances(records);
        await store.mergeInstances(records);
        expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 2, numberOfInstances: 3 });
        const state = await store.getStudy('1.2.3');
        expect(state?.series.map((s) => s.instances.length)).toEqual([2, 1]);
      });

      it('merges several studies in one batch and reports each', async () => {
        const changed = await store.mergeInstances([
          makeRecord({ study: 'A', sop: 'a1' }),
          makeRecord({ study: 'B', sop: 'b1' }),
          makeRecord({ study: 'A', sop: 'a2' }),
        ]);
        expect([...changed].sort()).toEqual(['A', 'B']);
        expect((await store.getSummary('A'))?.numberOfInstances).toBe(2);
        expect((await store.getSummary('B'))?.numberOfInstances).toBe(1);
      });

      it('latest received study, patient and series attributes win; an older record does not overwrite them', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1', studyDescription: 'first', seriesDescription: 'a', receivedAt: t(10) })]);
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        expect(
          await store.mergeInstances([
            makeRecord({ sop: 'I2', studyDescription: 'corrected', seriesDescription: 'b', patientId: 'P2', receivedAt: t(20) }),
          ]),
        ).toEqual(['1.2.3']);
        await store.mergeInstances([makeRecord({ sop: 'I3', studyDescription: 'stale', seriesDescription: 'c', receivedAt: t(5) })]);
        const state = await store.getStudy('1.2.3');
        expect(state?.study.studyDescription).toBe('corrected');
        expect(state?.patient.patientId).toBe('P2');
        expect(state?.series[0]?.attributes.seriesDescription).toBe('b');
        expect(state?.firstReceivedAt).toBe(t(5));
        expect(state?.lastReceivedAt).toBe(t(20));
        expect(state?.series[0]?.instances).toHaveLength(3);
      });

      it('an older re-send of an instance does not overwrite its newer attributes', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 5, receivedAt: t(20) })]);
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        expect(await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 4, receivedAt: t(10) })])).toEqual([]);
        expect((await store.getStudy('1.2.3'))?.series[0]?.instances[0]?.instanceNumber).toBe(5);
      });

      it('a corrected instance attribute is a change that marks the study pending again with attempts 0', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 1 })]);
        await store.setPublishStatus('1.2.3', { state: 'failed', attempts: 3, lastError: 'HTTP 400' });
        expect(await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 7, receivedAt: t(40) })])).toEqual(['1.2.3']);
        expect((await store.getSummary('1.2.3'))?.publish).toEqual({ state: 'pending', attempts: 0 });
        expect((await store.getStudy('1.2.3'))?.series[0]?.instances[0]?.instanceNumber).toBe(7);
        expect(await store.countByState()).toEqual({ pending: 1, published: 0, failed: 0 });
      });

      it('moves an instance re-sent with another series UID, and drops the emptied series', async () => {
        await store.mergeInstances([makeRecord({ series: 'S1', sop: 'I1' }), makeRecord({ series: 'S2', sop: 'I2' })]);
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        expect(await store.mergeInstances([makeRecord({ series: 'S2', sop: 'I1', receivedAt: t(50) })])).toEqual(['1.2.3']);
        const state = await store.getStudy('1.2.3');
        expect(state?.series.map((s) => [s.attributes.seriesInstanceUid, s.instances.map((i) => i.sopInstanceUid)])).toEqual([
          ['S2', ['I1', 'I2']],
        ]);
        expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 1, numberOfInstances: 2 });
      });

      it('a new calling AE (which selects peer mapping settings) is a change', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1', callingAeTitle: 'CT1' })]);
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        expect(await store.mergeInstances([makeRecord({ sop: 'I1', callingAeTitle: 'PACS', receivedAt: t(50) })])).toEqual(['1.2.3']);
        expect((await store.getStudy('1.2.3'))?.lastReceipt.callingAeTitle).toBe('PACS');
      });

      it('skips a record without UIDs instead of failing the batch', async () => {
        const bad = makeRecord({ sop: '' });
        expect(await store.mergeInstances([bad, makeRecord({ sop: 'I1' })])).toEqual(['1.2.3']);
        expect((await store.getSummary('1.2.3'))?.numberOfInstances).toBe(1);
      });

      it('an empty batch reports nothing', async () => {
        expect(await store.mergeInstances([])).toEqual([]);
      });
    });

    describe('getStudy', () => {
      it('orders series by number then UID and instances by number then UID, unnumbered last', async () => {
        await store.mergeInstances([
          makeRecord({ series: '1.9', seriesNumber: 2, sop: 'x.3', instanceNumber: 2 }),
          makeRecord({ series: '1.8', sop: 'y.1' }),
          makeRecord({ series: '1.9', seriesNumber: 2, sop: 'x.1', instanceNumber: 10 }),
          makeRecord({ series: '1.7', seriesNumber: 2, sop: 'z.1', instanceNumber: 1 }),
          makeRecord({ series: '1.9', seriesNumber: 2, sop: 'x.2' }),
          makeRecord({ series: '1.9', seriesNumber: 2, sop: 'x.0', instanceNumber: 2 }),
          makeRecord({ series: '1.6', seriesNumber: 1, sop: 'w.1', instanceNumber: 1 }),
        ]);
        const state = await store.getStudy('1.2.3');
        expect(state?.series.map((s) => s.attributes.seriesInstanceUid)).toEqual(['1.6', '1.7', '1.9', '1.8']);
        expect(state?.series[2]?.instances.map((i) => i.sopInstanceUid)).toEqual(['x.0', 'x.3', 'x.1', 'x.2']);
        expect(state).toMatchObject({
          studyInstanceUid: '1.2.3',
          specificCharacterSet: 'ISO_IR 100',
          patient: { patientId: 'P1', patientName: { alphabetic: 'Doe^Jane' } },
          study: { studyInstanceUid: '1.2.3', studyDate: '20240115' },
          lastReceipt: { callingAeTitle: 'MODALITY' },
        });
      });

      it('returns undefined for an unknown study', async () => {
        expect(await store.getStudy('9.9')).toBeUndefined();
        expect(await store.getSummary('9.9')).toBeUndefined();
      });
    });

    describe('publish status and summaries', () => {
      it('setPublishStatus sets given members and clears those given as undefined', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1' })]);
        await store.setPublishStatus('1.2.3', { state: 'pending', attempts: 2, lastError: 'HTTP 503' });
        await store.setPublishStatus('1.2.3', {
          state: 'published',
          attempts: 3,
          lastError: undefined,
          publishedAt: '2024-01-15T11:00:00.000Z',
          resourceId: 'abc',
          lastResource: { resourceType: 'ImagingStudy', status: 'available' },
        });
        expect((await store.getSummary('1.2.3'))?.publish).toEqual({
          state: 'published',
          attempts: 3,
          publishedAt: '2024-01-15T11:00:00.000Z',
          resourceId: 'abc',
          lastResource: { resourceType: 'ImagingStudy', status: 'available' },
        });
        const [listed] = await store.listSummaries({ state: 'published' });
        expect(listed?.publish.lastResource).toBeUndefined();
        expect(listed?.publish.resourceId).toBe('abc');
      });

      it('setPublishStatus leaves an unknown study alone', async () => {
        await store.setPublishStatus('9.9', { state: 'failed', attempts: 1 });
        expect(await store.getSummary('9.9')).toBeUndefined();
        expect(await store.countByState()).toEqual({ pending: 0, published: 0, failed: 0 });
      });

      it('lists summaries by state, newest first, and counts by state', async () => {
        await store.mergeInstances([
          makeRecord({ study: 'A', sop: 'a1', receivedAt: t(1) }),
          makeRecord({ study: 'B', sop: 'b1', receivedAt: t(2) }),
          makeRecord({ study: 'C', sop: 'c1', receivedAt: t(3) }),
        ]);
        await store.setPublishStatus('B', { state: 'failed', attempts: 1, lastError: 'HTTP 400' });
        expect(await store.countByState()).toEqual({ pending: 2, published: 0, failed: 1 });
        expect((await store.listSummaries()).map((s) => s.studyInstanceUid)).toEqual(['C', 'B', 'A']);
        expect((await store.listSummaries({ limit: 2 })).map((s) => s.studyInstanceUid)).toEqual(['C', 'B']);
        expect((await store.listSummaries({ state: 'pending', limit: 1 })).map((s) => s.studyInstanceUid)).toEqual(['C']);
        expect((await store.listSummaries({ oldestFirst: true })).map((s) => s.studyInstanceUid)).toEqual(['A', 'B', 'C']);
        expect(
          (await store.listSummaries({ state: 'pending', oldestFirst: true, limit: 1 })).map((s) => s.studyInstanceUid),
        ).toEqual(['A']);
        const [failed] = await store.listSummaries({ state: 'failed' });
        expect(failed).toMatchObject({
          studyInstanceUid: 'B',
          numberOfSeries: 1,
          numberOfInstances: 1,
          publish: { state: 'failed', lastError: 'HTTP 400' },
        });

        // A newer instance of A moves it to the front; a change of B makes it pending again.
        await store.mergeInstances([makeRecord({ study: 'A', sop: 'a2', receivedAt: t(9) }), makeRecord({ study: 'B', sop: 'b2', receivedAt: t(4) })]);
        expect((await store.listSummaries()).map((s) => s.studyInstanceUid)).toEqual(['A', 'B', 'C']);
        expect(await store.countByState()).toEqual({ pending: 3, published: 0, failed: 0 });
        expect(await store.listSummaries({ state: 'failed' })).toEqual([]);
      });

      it('orders studies received at the same time by UID', async () => {
        await store.mergeInstances([
          makeRecord({ study: 'B', sop: 'b1', receivedAt: t(1) }),
          makeRecord({ study: 'A', sop: 'a1', receivedAt: t(1) }),
          makeRecord({ study: 'C', sop: 'c1', receivedAt: t(1) }),
        ]);
        expect((await store.listSummaries({ limit: 2 })).map((s) => s.studyInstanceUid)).toEqual(['A', 'B']);
      });
    });
  });
}
