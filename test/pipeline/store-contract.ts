/**
 * The StudyStore contract, run against each implementation (SQLite, Redis):
 * merge semantics (one test per rule of MERGE_RULES, merge-rule-tests.ts),
 * assembly of the study state, the publish protocol, publish status, summaries.
 * Not covered here (implementation-specific): an instance re-sent under
 * another Study Instance UID (SQLite moves it; Redis keeps one copy per study).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { KEY_OBJECT_SELECTION_SOP_CLASS } from '../../src/dicom/key-object-document.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import { MERGE_RULES } from '../../src/pipeline/merge.js';
import type { StudyStore } from '../../src/pipeline/study-store.js';
import { kosRecord, makeRecord } from './helpers.js';
import { MERGE_RULE_TESTS } from './merge-rule-tests.js';

export { kosRecord } from './helpers.js';

export interface StoreUnderTest {
  store: StudyStore;
  /** Closes the store and removes what it stored. */
  cleanup(): Promise<void>;
}

const MAPPING: MappingOptions & { fhirVersion: 'R4' } = { fhirVersion: 'R4', patientIdentifier: { defaultSystem: 'urn:oid:1.2.3.999', issuerSystems: {} }, timezone: 'UTC', basedOn: 'off' };
const BOTH_SIDES = { system: 'http://snomed.info/sct', code: '51440002', display: 'Right and left' };

const t = (second: number): string => `2024-01-15T10:20:${String(second).padStart(2, '0')}.000Z`;

/** 20 instances: series S1 with <prefix>I1…I12, series S2 with <prefix>I13…I20. */
function twentyInstances(study = '1.2.3', prefix = ''): InstanceRecord[] {
  return Array.from({ length: 20 }, (_, i) =>
    makeRecord({ study, series: i < 12 ? 'S1' : 'S2', seriesNumber: i < 12 ? 1 : 2, sop: `${prefix}I${i + 1}`, instanceNumber: i + 1, receivedAt: t(0) }),
  );
}

const seriesShape = (state: Awaited<ReturnType<StudyStore['getStudy']>>) =>
  state?.series.map((s) => [s.attributes.seriesInstanceUid, s.instances.map((i) => i.sopInstanceUid)]);

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
      it('merges a batch as it merges the same records one by one (study and series rows written once per batch)', async () => {
        // One sequence of records under two UID prefixes: record by record under `one-`, as one batch under `all-`.
        const sequence = (p: string): InstanceRecord[] => {
          const r = (spec: Parameters<typeof makeRecord>[0]): InstanceRecord => makeRecord({ ...spec, study: `${p}A`, series: `${p}${spec.series ?? 'S1'}`, sop: `${p}${spec.sop}` });
          const imported = r({ sop: 'I3', series: 'S2', seriesNumber: 2, studyDescription: 'imported', seriesDescription: 'imported', receivedAt: t(30) });
          imported.receipt.source = 'dicomweb';
          const otherCharset = r({ sop: 'I4', seriesNumber: 1, callingAeTitle: 'PACS', receivedAt: t(25) });
          otherCharset.specificCharacterSet = 'ISO_IR 192';
          const noPatient = r({ sop: 'I5', series: 'S2', receivedAt: t(40) });
          noPatient.patient = {};
          return [
            r({ sop: 'I1', seriesNumber: 1, instanceNumber: 1, studyDescription: 'first', seriesDescription: 'one', patientId: 'P1', receivedAt: t(10) }),
            r({ sop: 'I2', seriesNumber: 1, instanceNumber: 2, studyDescription: 'older', patientId: 'P0', receivedAt: t(5) }),
            imported,
            r({ sop: 'I1', series: 'S2', seriesNumber: 2, instanceNumber: 1, seriesDescription: 'moved', receivedAt: t(20) }),
            otherCharset,
            kosRecord({ sop: `${p}K1`, study: `${p}A`, title: '113001', refs: [{ study: `${p}A`, series: `${p}S1`, sop: `${p}I2` }], receivedAt: t(26) }),
            r({ sop: 'I2', seriesNumber: 1, instanceNumber: 2, studyDescription: 'after the note', receivedAt: t(27) }),
            r({ sop: 'I6', seriesNumber: 1, instanceNumber: 6, seriesDescription: 'stale', studyDescription: 'stale', receivedAt: t(3) }),
            noPatient,
            r({ sop: 'I4', seriesNumber: 1, instanceNumber: 4, studyDescription: 'latest', receivedAt: t(45) }),
          ];
        };
        const changedOneByOne = new Set<string>();
        for (const record of sequence('one-')) for (const uid of await store.mergeInstances([record])) changedOneByOne.add(uid);
        const changedInOneBatch = await store.mergeInstances(sequence('all-'));
        expect(changedInOneBatch.sort()).toEqual([...changedOneByOne].map((uid) => uid.replace('one-', 'all-')).sort());
        const asAll = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replaceAll('one-', 'all-'));
        const study = await store.getStudy('all-A');
        expect(study?.series.map((s) => [s.attributes.seriesDescription, s.instances.length])).toEqual([['one', 2], ['moved', 3]]);
        expect(study?.study.studyDescription).toBe('latest');
        expect(study).toEqual(asAll(await store.getStudy('one-A')));
        expect(await store.getSummary('all-A')).toEqual(asAll(await store.getSummary('one-A')));
      });

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

      it('keeps each image\'s Image Laterality: series laterality R, L, R, L is both in either order of arrival (issue 19 item 2)', async () => {
        const mg = (sop: string, side: string, second: number): InstanceRecord => {
          const r = makeRecord({ study: '1.2.9', series: 'MG1', modality: 'MG', sop, receivedAt: t(second) });
          r.series.imageLaterality = side;
          r.instance.imageLaterality = side;
          return r;
        };
        const sides = ['R', 'L', 'R', 'L'];
        const forward = sides.map((side, n) => mg(`A${n + 1}`, side, n + 1));
        const backward = sides.map((side, n) => mg(`B${n + 1}`, side, 10 - n)).map((r) => ({ ...r, study: { ...r.study, studyInstanceUid: '1.2.10' } }));
        for (const r of forward) await store.mergeInstances([r]);
        for (const r of [...backward].reverse()) await store.mergeInstances([r]);
        for (const uid of ['1.2.9', '1.2.10']) {
          const state = (await store.getStudy(uid))!;
          expect(state.series[0]!.instances.map((i) => i.imageLaterality).sort()).toEqual(['L', 'L', 'R', 'R']);
          expect(mapImagingStudy(state, MAPPING).series![0]!.laterality).toStrictEqual(BOTH_SIDES);
        }
        // Re-sending one R image last changes nothing.
        await store.mergeInstances([mg('A1', 'R', 30)]);
        expect(mapImagingStudy((await store.getStudy('1.2.9'))!, MAPPING).series![0]!.laterality).toStrictEqual(BOTH_SIDES);
      });

      it('an empty batch reports nothing', async () => {
        expect(await store.mergeInstances([])).toEqual([]);
      });
    });

    describe('rejection notes (IHE IOCM) and key objects', () => {
      it('a quality rejection of 3 of 20 instances leaves 17 with correct series counts; the note is no instance', async () => {
        await store.mergeInstances(twentyInstances());
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        const note = kosRecord({
          sop: 'K1',
          title: '113001',
          refs: [{ series: 'S1', sop: 'I2' }, { series: 'S1', sop: 'I5' }, { series: 'S2', sop: 'I20' }],
          receivedAt: t(30),
        });
        expect(await store.mergeInstances([note])).toEqual(['1.2.3']);
        expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 2, numberOfInstances: 17, publish: { state: 'pending', attempts: 0 } });
        const state = await store.getStudy('1.2.3');
        expect(state?.series.map((s) => [s.attributes.seriesInstanceUid, s.instances.length])).toEqual([
          ['S1', 10],
          ['S2', 7],
        ]);
        const uids = state?.series.flatMap((s) => s.instances.map((i) => i.sopInstanceUid));
        expect(uids).not.toContain('I2');
        expect(uids).not.toContain('I5');
        expect(uids).not.toContain('I20');
        expect(uids).not.toContain('K1');
        expect(state?.rejection).toEqual({ reason: '113001', kosSopInstanceUid: 'K1' });
        expect(state?.keyObjects).toBeUndefined();
        // A study with instances left keeps the rejection only as information: the same note again changes nothing.
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        expect(await store.mergeInstances([note])).toEqual([]);
        expect((await store.getSummary('1.2.3'))?.numberOfInstances).toBe(17);
      });

      it('a series left empty by a rejection leaves the study', async () => {
        await store.mergeInstances([
          makeRecord({ series: 'S1', seriesNumber: 1, sop: 'I1' }),
          makeRecord({ series: 'S2', seriesNumber: 2, sop: 'I2' }),
          makeRecord({ series: 'S2', seriesNumber: 2, sop: 'I3' }),
        ]);
        await store.mergeInstances([kosRecord({ sop: 'K1', title: '113001', refs: [{ series: 'S2', sop: 'I2' }, { series: 'S2', sop: 'I3' }] })]);
        expect(seriesShape(await store.getStudy('1.2.3'))).toEqual([['S1', ['I1']]]);
        expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 1, numberOfInstances: 1 });
      });

      it('all instances rejected: the study stays, empty, with the reason of the rejection', async () => {
        await store.mergeInstances([makeRecord({ series: 'S1', sop: 'I1' }), makeRecord({ series: 'S2', sop: 'I2' })]);
        const changed = await store.mergeInstances([
          kosRecord({ sop: 'K9', title: '113038', refs: [{ series: 'S1', sop: 'I1' }, { series: 'S2', sop: 'I2' }] }),
        ]);
        expect(changed).toEqual(['1.2.3']);
        const state = await store.getStudy('1.2.3');
        expect(state?.series).toEqual([]);
        expect(state?.rejection).toEqual({ reason: '113038', kosSopInstanceUid: 'K9' });
        expect(state?.patient.patientId).toBe('P1');
        expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 0, numberOfInstances: 0 });
      });

      it('a rejection merged before its instances still applies: they never appear', async () => {
        const note = kosRecord({ sop: 'K1', title: '113001', refs: [{ series: 'S1', sop: 'I2' }, { series: 'S2', sop: 'I20' }] });
        // The study is not in the store yet: nothing to publish, and it is not created by the note.
        expect(await store.mergeInstances([note])).toEqual([]);
        expect(await store.getStudy('1.2.3')).toBeUndefined();
        expect(await store.mergeInstances(twentyInstances())).toEqual(['1.2.3']);
        const state = await store.getStudy('1.2.3');
        expect(state?.series.map((s) => s.instances.length)).toEqual([11, 7]);
        const uids = state?.series.flatMap((s) => s.instances.map((i) => i.sopInstanceUid));
        expect(uids).not.toContain('I2');
        expect(uids).not.toContain('I20');
        expect(state?.rejection).toEqual({ reason: '113001', kosSopInstanceUid: 'K1' });
        expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 2, numberOfInstances: 18 });
      });

      it('the order of arrival does not matter: note first or instances first give the same study', async () => {
        // SOP Instance UIDs are unique across studies: A.I1… and B.I1….
        const refs = (study: string) => [{ study, series: 'S1', sop: `${study}.I3` }, { study, series: 'S2', sop: `${study}.I13` }];
        await store.mergeInstances(twentyInstances('A', 'A.'));
        await store.mergeInstances([kosRecord({ sop: 'KA', study: 'A', title: '113037', refs: refs('A') })]);
        await store.mergeInstances([kosRecord({ sop: 'KB', study: 'B', title: '113037', refs: refs('B') })]);
        await store.mergeInstances(twentyInstances('B', 'B.'));
        const a = await store.getStudy('A');
        const b = await store.getStudy('B');
        const shape = (state: typeof a, prefix: string) =>
          state?.series.map((s) => [s.attributes.seriesInstanceUid, s.instances.map((i) => i.sopInstanceUid.slice(prefix.length))]);
        expect(shape(b, 'B.')).toEqual(shape(a, 'A.'));
        expect(a?.series.map((s) => s.instances.length)).toEqual([11, 7]);
        expect(shape(a, 'A.')?.[0]?.[1]).not.toContain('I3');
        expect(b?.rejection).toEqual({ reason: '113037', kosSopInstanceUid: 'KB' });
        expect(a?.rejection).toEqual({ reason: '113037', kosSopInstanceUid: 'KA' });
      });

      it('a re-sent rejected instance changes nothing', async () => {
        await store.mergeInstances(twentyInstances());
        await store.mergeInstances([kosRecord({ sop: 'K1', title: '113001', refs: [{ series: 'S1', sop: 'I1' }], receivedAt: t(10) })]);
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        const before = await store.getStudy('1.2.3');
        const again = makeRecord({ series: 'S1', seriesNumber: 1, sop: 'I1', instanceNumber: 1, studyDescription: 'changed', receivedAt: t(50) });
        expect(await store.mergeInstances([again])).toEqual([]);
        expect(await store.getStudy('1.2.3')).toEqual(before);
        expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfInstances: 19, lastReceivedAt: t(0), publish: { state: 'published' } });
      });

      it('rejectionOf tells the reason and the rejecting note, per study', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1' }), makeRecord({ sop: 'I2' })]);
        await store.mergeInstances([kosRecord({ sop: 'K1', title: '113039', refs: [{ sop: 'I1' }, { sop: 'I7' }] })]);
        expect(await store.rejectionOf('1.2.3', 'I1')).toEqual({ reason: '113039', kosSopInstanceUid: 'K1' });
        // Rejected before it arrived.
        expect(await store.rejectionOf('1.2.3', 'I7')).toEqual({ reason: '113039', kosSopInstanceUid: 'K1' });
        expect(await store.rejectionOf('1.2.3', 'I2')).toBeUndefined();
        expect(await store.rejectionOf('9.9', 'I1')).toBeUndefined();
        // The latest received note wins.
        await store.mergeInstances([kosRecord({ sop: 'K2', title: '113037', refs: [{ sop: 'I1' }], receivedAt: t(40) })]);
        expect(await store.rejectionOf('1.2.3', 'I1')).toEqual({ reason: '113037', kosSopInstanceUid: 'K2' });
        expect((await store.getStudy('1.2.3'))?.rejection).toEqual({ reason: '113037', kosSopInstanceUid: 'K2' });
        await store.mergeInstances([kosRecord({ sop: 'K0', title: '113001', refs: [{ sop: 'I1' }], receivedAt: t(5) })]);
        expect(await store.rejectionOf('1.2.3', 'I1')).toEqual({ reason: '113037', kosSopInstanceUid: 'K2' });
        expect((await store.getStudy('1.2.3'))?.rejection).toEqual({ reason: '113037', kosSopInstanceUid: 'K2' });
      });

      it('a note referencing two studies applies to each and reports both', async () => {
        await store.mergeInstances([makeRecord({ study: 'A', sop: 'a1' }), makeRecord({ study: 'A', sop: 'a2' }), makeRecord({ study: 'B', sop: 'b1' })]);
        await store.setPublishStatus('A', { state: 'published', attempts: 1 });
        await store.setPublishStatus('B', { state: 'published', attempts: 1 });
        const changed = await store.mergeInstances([
          kosRecord({ sop: 'K1', study: 'A', title: '113001', refs: [{ study: 'A', sop: 'a1' }, { study: 'B', sop: 'b1' }] }),
        ]);
        expect([...changed].sort()).toEqual(['A', 'B']);
        expect((await store.getSummary('A'))?.numberOfInstances).toBe(1);
        expect((await store.getSummary('B'))?.numberOfInstances).toBe(0);
        expect(await store.rejectionOf('B', 'b1')).toEqual({ reason: '113001', kosSopInstanceUid: 'K1' });
        expect(await store.rejectionOf('A', 'b1')).toBeUndefined();
      });

      it('a non-rejection KOS is a KO instance and its document is kept in keyObjects; rejecting it removes both', async () => {
        await store.mergeInstances([makeRecord({ series: 'S1', seriesNumber: 1, sop: 'I1' }), makeRecord({ series: 'S1', seriesNumber: 1, sop: 'I2' })]);
        const kos = kosRecord({ sop: 'K20', title: '113020', refs: [{ series: 'S1', sop: 'I2' }] });
        expect(await store.mergeInstances([kos])).toEqual(['1.2.3']);
        const state = await store.getStudy('1.2.3');
        expect(seriesShape(state)).toEqual([
          ['S1', ['I1', 'I2']],
          ['KO', ['K20']],
        ]);
        expect(state?.series[1]?.instances[0]?.conceptNameCode).toEqual({ codeValue: '113020', codingSchemeDesignator: 'DCM', codeMeaning: 'title 113020' });
        expect(state?.keyObjects).toEqual([
          { sopInstanceUid: 'K20', seriesInstanceUid: 'KO', sopClassUid: KEY_OBJECT_SELECTION_SOP_CLASS, document: kos.keyObject },
        ]);
        expect(state?.rejection).toBeUndefined();
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
        expect(await store.mergeInstances([kos])).toEqual([]);

        await store.mergeInstances([kosRecord({ sop: 'K1', series: 'KO2', title: '113001', refs: [{ series: 'KO', sop: 'K20' }] })]);
        const after = await store.getStudy('1.2.3');
        expect(seriesShape(after)).toEqual([['S1', ['I1', 'I2']]]);
        expect(after?.keyObjects).toBeUndefined();
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

    describe('merge rules (merge.ts MERGE_RULES)', () => {
      for (const rule of MERGE_RULES) {
        it(`${rule.id}: ${rule.statement}`, () => MERGE_RULE_TESTS[rule.id](store));
      }
    });

    describe('publish protocol (beginPublish, finishPublish, republish)', () => {
      const published = (at: number, extra: { resourceId?: string; note?: string } = {}) => ({
        state: 'published' as const,
        publishedAt: t(at),
        lastResource: { resourceType: 'ImagingStudy', numberOfInstances: at },
        ...extra,
      });

      it('beginPublish loads the study, counts the attempt and marks it pending; an unknown study gives undefined', async () => {
        await store.mergeInstances([makeRecord({ series: 'S1', seriesNumber: 1, sop: 'I1' }), makeRecord({ series: 'S2', seriesNumber: 2, sop: 'I2' })]);
        await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1, resourceId: 'srv-1', lastResource: { resourceType: 'ImagingStudy' } });
        const begun = await store.beginPublish('1.2.3');
        expect(begun?.state).toEqual(await store.getStudy('1.2.3'));
        expect(begun?.status).toEqual({ state: 'pending', attempts: 2, resourceId: 'srv-1', lastResource: { resourceType: 'ImagingStudy' } });
        expect(typeof begun?.generation).toBe('number');
        expect((await store.getSummary('1.2.3'))?.publish).toMatchObject({ state: 'pending', attempts: 2 });
        expect(await store.countByState()).toEqual({ pending: 1, published: 0, failed: 0 });

        expect(await store.beginPublish('9.9')).toBeUndefined();
        expect(await store.getSummary('9.9')).toBeUndefined();
        expect(await store.countByState()).toEqual({ pending: 1, published: 0, failed: 0 });
      });

      it('finishPublish records the outcome: retries count attempts and keep the error, a publish clears it', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1' })]);
        let begun = await store.beginPublish('1.2.3');
        expect(await store.finishPublish('1.2.3', begun!.generation, { state: 'pending', lastError: 'HTTP 503' })).toBe('pending');
        expect((await store.getSummary('1.2.3'))?.publish).toEqual({ state: 'pending', attempts: 1, lastError: 'HTTP 503' });

        begun = await store.beginPublish('1.2.3');
        expect(begun?.status.attempts).toBe(2);
        expect(await store.finishPublish('1.2.3', begun!.generation, published(5, { resourceId: 'srv-1', note: 'kept here' }))).toBe('published');
        expect((await store.getSummary('1.2.3'))?.publish).toEqual({
          state: 'published',
          attempts: 2,
          publishedAt: t(5),
          resourceId: 'srv-1',
          note: 'kept here',
          lastResource: { resourceType: 'ImagingStudy', numberOfInstances: 5 },
        });
        expect(await store.countByState()).toEqual({ pending: 0, published: 1, failed: 0 });

        // A publish without a resource id keeps the known one and clears the note; a failure keeps the last resource.
        begun = await store.beginPublish('1.2.3');
        await store.finishPublish('1.2.3', begun!.generation, published(6));
        expect((await store.getSummary('1.2.3'))?.publish).toMatchObject({ state: 'published', attempts: 3, resourceId: 'srv-1' });
        expect((await store.getSummary('1.2.3'))?.publish.note).toBeUndefined();
        begun = await store.beginPublish('1.2.3');
        expect(await store.finishPublish('1.2.3', begun!.generation, { state: 'failed', lastError: 'HTTP 400: bad' })).toBe('failed');
        expect((await store.getSummary('1.2.3'))?.publish).toMatchObject({
          state: 'failed',
          attempts: 4,
          lastError: 'HTTP 400: bad',
          resourceId: 'srv-1',
          lastResource: { numberOfInstances: 6 },
        });
        expect(await store.countByState()).toEqual({ pending: 0, published: 0, failed: 1 });
      });

      it('a merge during a publish: the finish keeps the study pending, with what the attempt learned', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1' })]);
        const begun = await store.beginPublish('1.2.3');
        // The merge reports the study, so the aggregator schedules its own publish.
        expect(await store.mergeInstances([makeRecord({ sop: 'I2', receivedAt: t(30) })])).toEqual(['1.2.3']);
        expect(await store.finishPublish('1.2.3', begun!.generation, published(31, { resourceId: 'srv-1' }))).toBe('pending');
        expect((await store.getSummary('1.2.3'))?.publish).toEqual({
          state: 'pending',
          attempts: 0,
          publishedAt: t(31),
          resourceId: 'srv-1',
          lastResource: { resourceType: 'ImagingStudy', numberOfInstances: 31 },
        });
        expect(await store.countByState()).toEqual({ pending: 1, published: 0, failed: 0 });
        // The next attempt, begun after the change, publishes.
        const next = await store.beginPublish('1.2.3');
        expect(next?.status).toMatchObject({ attempts: 1, resourceId: 'srv-1' });
        expect(next?.state.series[0]?.instances).toHaveLength(2);
        expect(await store.finishPublish('1.2.3', next!.generation, published(32))).toBe('published');
      });

      it('a failure finished after a change meanwhile leaves the study pending too', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1' })]);
        const begun = await store.beginPublish('1.2.3');
        await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 3, receivedAt: t(30) })]);
        expect(await store.finishPublish('1.2.3', begun!.generation, { state: 'failed', lastError: 'HTTP 422' })).toBe('pending');
        expect((await store.getSummary('1.2.3'))?.publish).toMatchObject({ state: 'pending', attempts: 0 });
        expect(await store.listSummaries({ state: 'failed' })).toEqual([]);
      });

      it('a rejection note during a publish is a change; a pure re-send is none', async () => {
        const record = makeRecord({ sop: 'I1' });
        await store.mergeInstances([record, makeRecord({ sop: 'I2' })]);
        let begun = await store.beginPublish('1.2.3');
        await store.mergeInstances([record]);
        expect(await store.finishPublish('1.2.3', begun!.generation, published(10))).toBe('published');

        begun = await store.beginPublish('1.2.3');
        await store.mergeInstances([kosRecord({ sop: 'K1', title: '113001', refs: [{ sop: 'I2' }], receivedAt: t(20) })]);
        expect(await store.finishPublish('1.2.3', begun!.generation, published(21))).toBe('pending');
      });

      it('republish starts over: pending, attempts 0, last error cleared; a publish under way finishes pending', async () => {
        await store.mergeInstances([makeRecord({ sop: 'I1' })]);
        let begun = await store.beginPublish('1.2.3');
        await store.finishPublish('1.2.3', begun!.generation, { state: 'failed', lastError: 'HTTP 400' });
        expect(await store.republish('1.2.3')).toBe('failed');
        expect((await store.getSummary('1.2.3'))?.publish).toEqual({ state: 'pending', attempts: 0 });
        expect(await store.countByState()).toEqual({ pending: 1, published: 0, failed: 0 });

        begun = await store.beginPublish('1.2.3');
        expect(await store.republish('1.2.3')).toBe('pending');
        expect(await store.finishPublish('1.2.3', begun!.generation, published(40))).toBe('pending');
        expect(await store.republish('9.9')).toBeUndefined();
        expect(await store.getSummary('9.9')).toBeUndefined();
      });

      it('finishPublish leaves an unknown study alone', async () => {
        expect(await store.finishPublish('9.9', 1, published(1))).toBeUndefined();
        expect(await store.getSummary('9.9')).toBeUndefined();
        expect(await store.countByState()).toEqual({ pending: 0, published: 0, failed: 0 });
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
