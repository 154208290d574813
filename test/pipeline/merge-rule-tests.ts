/**
 * One test per merge rule (src/pipeline/merge.ts MERGE_RULES), run by the
 * StudyStore contract against each store. A Record over the rule ids: a new
 * rule does not compile without its test.
 */
import { expect } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import type { MergeRuleId } from '../../src/pipeline/merge.js';
import type { StudyStore } from '../../src/pipeline/study-store.js';
import { kosRecord, makeRecord, type RecordSpec } from './helpers.js';

const t = (second: number): string => `2024-01-15T10:20:${String(second).padStart(2, '0')}.000Z`;

const sopsOf = async (store: StudyStore, uid = '1.2.3') =>
  (await store.getStudy(uid))?.series.map((s) => [s.attributes.seriesInstanceUid, s.instances.map((i) => i.sopInstanceUid)]);

/** The same record with every object's keys set in reverse order. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).reverse()) out[key] = reversedKeys((value as Record<string, unknown>)[key]);
    return out as T;
  }
  return value;
}

export const MERGE_RULE_TESTS: Record<MergeRuleId, (store: StudyStore) => Promise<void>> = {
  async 'keyed-by-sop-instance-uid'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 1, receivedAt: t(0) })]);
    await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 2, receivedAt: t(1) })]);
    expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 1, numberOfInstances: 1 });
    expect((await store.getStudy('1.2.3'))?.series[0]?.instances).toEqual([expect.objectContaining({ sopInstanceUid: 'I1', instanceNumber: 2 })]);
  },

  async 'latest-received-wins'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1', studyDescription: 'first', seriesDescription: 'a', patientId: 'P1', receivedAt: t(10) })]);
    await store.mergeInstances([makeRecord({ sop: 'I2', studyDescription: 'latest', seriesDescription: 'b', patientId: 'P2', receivedAt: t(20) })]);
    await store.mergeInstances([makeRecord({ sop: 'I3', studyDescription: 'older', seriesDescription: 'c', patientId: 'P3', receivedAt: t(15) })]);
    const state = await store.getStudy('1.2.3');
    expect(state?.study.studyDescription).toBe('latest');
    expect(state?.patient.patientId).toBe('P2');
    expect(state?.series[0]?.attributes.seriesDescription).toBe('b');
    expect(state?.lastReceivedAt).toBe(t(20));
  },

  async 'older-instance-changes-nothing'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 5, receivedAt: t(20) })]);
    await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
    expect(await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 4, receivedAt: t(10) })])).toEqual([]);
    expect((await store.getStudy('1.2.3'))?.series[0]?.instances[0]?.instanceNumber).toBe(5);
  },

  async 'first-received-is-earliest'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1', receivedAt: t(20) })]);
    await store.mergeInstances([makeRecord({ sop: 'I2', receivedAt: t(5) })]);
    expect(await store.getSummary('1.2.3')).toMatchObject({ firstReceivedAt: t(5), lastReceivedAt: t(20) });
  },

  async 'change-is-a-different-value'(store) {
    const record = makeRecord({ sop: 'I1', instanceNumber: 1, studyDescription: 'CT head' });
    await store.mergeInstances([record]);
    await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
    // Equal values with their keys in another order, received later: no change.
    const same: InstanceRecord = reversedKeys({ ...record, receipt: { ...record.receipt, receivedAt: t(30) } });
    expect(await store.mergeInstances([same])).toEqual([]);
    expect((await store.getSummary('1.2.3'))?.publish.state).toBe('published');
    expect(await store.mergeInstances([makeRecord({ sop: 'I1', instanceNumber: 1, studyDescription: 'CT head/neck', receivedAt: t(40) })])).toEqual([
      '1.2.3',
    ]);
  },

  async 'calling-ae-is-a-change'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1', callingAeTitle: 'CT1' })]);
    await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
    expect(await store.mergeInstances([makeRecord({ sop: 'I1', callingAeTitle: 'PACS', receivedAt: t(50) })])).toEqual(['1.2.3']);
    expect((await store.getStudy('1.2.3'))?.lastReceipt.callingAeTitle).toBe('PACS');
  },

  async 'sop-moves-between-series'(store) {
    await store.mergeInstances([makeRecord({ series: 'S1', seriesNumber: 1, sop: 'I1' }), makeRecord({ series: 'S2', seriesNumber: 2, sop: 'I2' })]);
    await store.mergeInstances([makeRecord({ series: 'S2', seriesNumber: 2, sop: 'I1', receivedAt: t(50) })]);
    expect(await sopsOf(store)).toEqual([['S2', ['I1', 'I2']]]);
    expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 1, numberOfInstances: 2 });
  },

  async 'change-restarts-publish'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1' })]);
    await store.setPublishStatus('1.2.3', { state: 'failed', attempts: 4, lastError: 'HTTP 400', note: 'a note' });
    const begun = await store.beginPublish('1.2.3');
    await store.mergeInstances([makeRecord({ sop: 'I2', receivedAt: t(30) })]);
    expect((await store.getSummary('1.2.3'))?.publish).toEqual({ state: 'pending', attempts: 0 });
    // The attempt begun before the change finishes pending.
    expect(await store.finishPublish('1.2.3', begun!.generation, { state: 'published', publishedAt: t(31), lastResource: {} })).toBe('pending');
  },

  async 'pending-study-reported'(store) {
    const record = makeRecord({ sop: 'I1' });
    await store.mergeInstances([record]);
    expect(await store.mergeInstances([record])).toEqual(['1.2.3']);
    await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
    expect(await store.mergeInstances([record])).toEqual([]);
  },

  async 'record-without-uids-skipped'(store) {
    const noSeries = makeRecord({ sop: 'I9' });
    noSeries.series.seriesInstanceUid = '';
    expect(await store.mergeInstances([makeRecord({ sop: '' }), noSeries, makeRecord({ sop: 'I1' })])).toEqual(['1.2.3']);
    expect(await sopsOf(store)).toEqual([['1.2.3.1', ['I1']]]);
  },

  async 'rejected-instances-stay-out'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1', studyDescription: 'a', receivedAt: t(0) })]);
    await store.mergeInstances([kosRecord({ sop: 'K1', title: '113001', refs: [{ sop: 'I2' }], receivedAt: t(10) })]);
    await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
    expect(await store.mergeInstances([makeRecord({ sop: 'I2', studyDescription: 'b', receivedAt: t(20) })])).toEqual([]);
    const state = await store.getStudy('1.2.3');
    expect(await sopsOf(store)).toEqual([['1.2.3.1', ['I1']]]);
    expect(state?.study.studyDescription).toBe('a');
    expect(state?.lastReceivedAt).toBe(t(0));
  },

  async 'rejection-removes-instances'(store) {
    await store.mergeInstances([makeRecord({ series: 'S1', seriesNumber: 1, sop: 'I1' }), makeRecord({ series: 'S2', seriesNumber: 2, sop: 'I2' })]);
    expect(await store.mergeInstances([kosRecord({ sop: 'K1', title: '113037', refs: [{ series: 'S2', sop: 'I2' }] })])).toEqual(['1.2.3']);
    expect(await sopsOf(store)).toEqual([['S1', ['I1']]]);
    expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfSeries: 1, numberOfInstances: 1 });
  },

  async 'rejection-creates-no-study'(store) {
    expect(await store.mergeInstances([kosRecord({ sop: 'K1', study: '7.7', title: '113001', refs: [{ study: '7.7', sop: 'X1' }] })])).toEqual([]);
    expect(await store.getStudy('7.7')).toBeUndefined();
    expect(await store.listSummaries()).toEqual([]);
  },

  async 'latest-rejection-wins'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1' }), makeRecord({ sop: 'I2' })]);
    await store.mergeInstances([kosRecord({ sop: 'K2', title: '113037', refs: [{ sop: 'I1' }], receivedAt: t(20) })]);
    await store.mergeInstances([kosRecord({ sop: 'K1', title: '113001', refs: [{ sop: 'I1' }], receivedAt: t(10) })]);
    expect(await store.rejectionOf('1.2.3', 'I1')).toEqual({ reason: '113037', kosSopInstanceUid: 'K2' });
    expect((await store.getStudy('1.2.3'))?.rejection).toEqual({ reason: '113037', kosSopInstanceUid: 'K2' });
  },

  async 'key-object-document-kept'(store) {
    await store.mergeInstances([makeRecord({ sop: 'I1' })]);
    const kos = kosRecord({ sop: 'K20', title: '113020', refs: [{ sop: 'I1' }], receivedAt: t(10) });
    await store.mergeInstances([kos]);
    expect((await store.getStudy('1.2.3'))?.keyObjects?.map((k) => [k.sopInstanceUid, k.document])).toEqual([['K20', kos.keyObject]]);
    // Re-sent as an instance that is no KOS: the document goes.
    await store.mergeInstances([makeRecord({ sop: 'K20', series: 'KO', seriesNumber: 99, receivedAt: t(20) })]);
    expect((await store.getStudy('1.2.3'))?.keyObjects).toBeUndefined();
    expect(await store.getSummary('1.2.3')).toMatchObject({ numberOfInstances: 2 });
  },

  async 'latest-present-value-wins'(store) {
    const withBodyPart = (spec: RecordSpec, bodyPart: string | undefined, contentLabel?: string): InstanceRecord => {
      const record = makeRecord(spec);
      if (bodyPart !== undefined) record.series.bodyPartExamined = bodyPart;
      if (contentLabel !== undefined) record.instance.contentLabel = contentLabel;
      return record;
    };
    // A later instance without Body Part Examined keeps the series' body part.
    await store.mergeInstances([withBodyPart({ sop: 'I1', receivedAt: t(10) }, 'CHEST', 'FIRST')]);
    await store.mergeInstances([withBodyPart({ sop: 'I2', receivedAt: t(20) }, undefined)]);
    // A re-send without body part and Content Label keeps both: no change, no publish.
    await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
    expect(await store.mergeInstances([withBodyPart({ sop: 'I1', receivedAt: t(25) }, undefined)])).toEqual([]);
    let state = await store.getStudy('1.2.3');
    expect(state?.series[0]?.attributes.bodyPartExamined).toBe('CHEST');
    expect(state?.series[0]?.instances.find((i) => i.sopInstanceUid === 'I1')?.contentLabel).toBe('FIRST');

    // Whatever the order of arrival: X at 10, none at 30, Y at 20 gives Y (the latest present), in any order.
    const orders = [
      ['X', 'none', 'Y'],
      ['none', 'Y', 'X'],
      ['Y', 'X', 'none'],
    ] as const;
    const at = { X: 10, none: 30, Y: 20 } as const;
    for (const [n, order] of orders.entries()) {
      const study = `7.${n}`;
      for (const which of order) {
        await store.mergeInstances([withBodyPart({ study, sop: `${study}.${which}`, receivedAt: t(at[which]) }, which === 'none' ? undefined : which)]);
      }
      state = await store.getStudy(study);
      expect(state?.series[0]?.attributes.bodyPartExamined).toBe('Y');
      expect(state?.series[0]?.instances).toHaveLength(3);
    }

    // A KOS read without its document keeps the known one.
    const kos = kosRecord({ sop: 'K20', title: '113020', refs: [{ sop: 'I1' }], receivedAt: t(30) });
    await store.mergeInstances([kos]);
    const withoutDocument: InstanceRecord = { ...kos, receipt: { ...kos.receipt, receivedAt: t(40) } };
    delete withoutDocument.keyObject;
    await store.setPublishStatus('1.2.3', { state: 'published', attempts: 1 });
    expect(await store.mergeInstances([withoutDocument])).toEqual([]);
    expect((await store.getStudy('1.2.3'))?.keyObjects?.map((k) => k.document)).toEqual([kos.keyObject]);

    // Issue 19 items 4 and 10: Performed Location, Institutional Department Name (study) and the Anatomic
    // Region Sequence (series) follow the same rule: a later record without them keeps them, in either order.
    const knee = { codeValue: '72696002', codingSchemeDesignator: 'SCT', codeMeaning: 'Knee' };
    const withLocation = (study: string, sop: string, receivedAt: string, present: boolean): InstanceRecord => {
      const record = makeRecord({ study, sop, receivedAt });
      if (present) {
        record.study.performedLocation = 'CT room 3';
        record.study.institutionalDepartmentName = 'Radiology';
        record.series.anatomicRegion = knee;
      }
      return record;
    };
    for (const [study, order] of [['8.0', [true, false]], ['8.1', [false, true]]] as const) {
      // The record with the values is received first in both studies; 8.1 merges it last.
      const records = order.map((present) => withLocation(study, `${study}.${present ? 'with' : 'without'}`, t(present ? 10 : 20), present));
      for (const record of records) await store.mergeInstances([record]);
      state = await store.getStudy(study);
      expect(state?.study).toMatchObject({ performedLocation: 'CT room 3', institutionalDepartmentName: 'Radiology' });
      expect(state?.series[0]?.attributes.anatomicRegion).toEqual(knee);
    }
    // A later present value replaces it.
    const moved = withLocation('8.0', '8.0.moved', t(30), true);
    moved.study.performedLocation = 'CT room 4';
    moved.series.anatomicRegion = { ...knee, codeValue: '49076000', codeMeaning: 'Left knee' };
    await store.mergeInstances([moved]);
    state = await store.getStudy('8.0');
    expect(state?.study.performedLocation).toBe('CT room 4');
    expect(state?.series[0]?.attributes.anatomicRegion?.codeMeaning).toBe('Left knee');
  },

  async 'c-store-outranks-import'(store) {
    const live = (study: string, receivedAt: string): InstanceRecord => {
      const record = makeRecord({ study, sop: `${study}.1`, studyDescription: 'live', seriesDescription: 'live series', callingAeTitle: 'CT1', receivedAt });
      record.instance.instanceNumber = 1;
      return record;
    };
    const imported = (study: string, receivedAt: string, description = 'archive'): InstanceRecord => {
      const record = makeRecord({ study, sop: `${study}.1`, studyDescription: description, seriesDescription: 'archive series', callingAeTitle: 'PACS', receivedAt });
      record.receipt.source = 'dicomweb';
      record.study.accessionNumber = 'A-1';
      record.instance.instanceNumber = 9;
      record.instance.numberOfFrames = 3;
      return record;
    };
    // Live first, then imported later; and imported first, then live (received earlier): the same study.
    await store.mergeInstances([live('A', t(10))]);
    await store.mergeInstances([imported('A', t(20))]);
    await store.mergeInstances([imported('B', t(20))]);
    await store.mergeInstances([live('B', t(10))]);
    const shape = (state: Awaited<ReturnType<StudyStore['getStudy']>>) => ({
      study: state?.study.studyDescription,
      accession: state?.study.accessionNumber,
      series: state?.series.map((s) => [s.attributes.seriesDescription, s.instances.map((i) => [i.instanceNumber, i.numberOfFrames])]),
      callingAe: state?.lastReceipt.callingAeTitle,
      source: state?.lastReceipt.source,
    });
    const expected = { study: 'live', accession: 'A-1', series: [['live series', [[1, 3]]]], callingAe: 'CT1', source: undefined };
    expect(shape(await store.getStudy('A'))).toEqual(expected);
    expect(shape(await store.getStudy('B'))).toEqual(expected);

    // Importing again changes nothing; among imports the latest present value wins, below C-STORE's.
    await store.setPublishStatus('A', { state: 'published', attempts: 1 });
    expect(await store.mergeInstances([imported('A', t(30))])).toEqual([]);
    await store.mergeInstances([imported('C', t(20), 'first import'), imported('C', t(40), 'second import')]);
    expect((await store.getStudy('C'))?.study.studyDescription).toBe('second import');
    expect((await store.getStudy('C'))?.lastReceipt).toMatchObject({ source: 'dicomweb', callingAeTitle: 'PACS' });
    await store.mergeInstances([live('C', t(5))]);
    expect(shape(await store.getStudy('C'))).toEqual(expected);
  },
};
