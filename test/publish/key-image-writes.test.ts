import { describe, expect, it } from 'vitest';
import { FhirHttpError, type FhirClient } from '../../src/fhir-client/fhir-client.js';
import { Publisher } from '../../src/publish/publisher.js';
import type { JobQueue } from '../../src/pipeline/job-queue.js';
import { finishedStatus, type PublishFinish, type StudyStore } from '../../src/pipeline/study-store.js';
import { silentLogger } from '../pipeline/helpers.js';
import type { KeyObjectDocument } from '../../src/dicom/key-object-document.js';
import { keyImageConditionalQuery, XVER_IMAGING_SELECTION_PROFILE } from '../../src/fhir/map-key-images.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import { keyImageWrites } from '../../src/fhir/key-image-writes.js';
import { localResources } from '../../src/fhir/study-resources.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import { keyImageId } from '../../src/fhir/resource-ids.js';
import type { StudyState } from '../../src/dicom/study-state.js';
import { validateR4, validateR5 } from '../support/fhir-validate.js';
import { assertStu3ImagingManifestShape } from '../support/fhir-validate-manifest.js';
import { minimalStudy, options } from '../fhir/fixtures.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const KOS_CLASS = '1.2.840.10008.5.1.4.1.1.88.59';

function withKos(): { state: StudyState; kosUid: string; seriesA: string; seriesB: string } {
  const state = minimalStudy();
  const study = state.studyInstanceUid;
  const seriesA = `${study}.71`;
  const seriesB = `${study}.72`;
  const kosUid = `${study}.90.1`;
  const document: KeyObjectDocument = {
    title: { codeValue: '113020', codingSchemeDesignator: 'DCM', codeMeaning: 'For Report Attachment' },
    isRejection: false,
    contentDate: '20240706',
    contentTime: '091500',
    references: [
      { studyInstanceUid: study, seriesInstanceUid: seriesA, sopClassUid: CT, sopInstanceUid: `${seriesA}.1` },
      { studyInstanceUid: study, seriesInstanceUid: seriesA, sopClassUid: CT, sopInstanceUid: `${seriesA}.2`, frames: [1, 3] },
      { studyInstanceUid: study, seriesInstanceUid: seriesB, sopClassUid: CT, sopInstanceUid: `${seriesB}.1` },
    ],
  };
  const rejection: KeyObjectDocument = { ...document, isRejection: true, rejectionReason: '113001' };
  state.keyObjects = [
    { sopInstanceUid: kosUid, seriesInstanceUid: `${study}.90`, sopClassUid: KOS_CLASS, document },
    // Never listed by the stores; ignored should one appear.
    { sopInstanceUid: `${study}.91.1`, seriesInstanceUid: `${study}.91`, sopClassUid: KOS_CLASS, document: rejection },
  ];
  return { state, kosUid, seriesA, seriesB };
}

const opts = (fhirVersion: MappingOptions['fhirVersion']): MappingOptions => options({ fhirVersion });

describe('keyImageWrites', () => {
  it('R5: one ImagingSelection per referenced series, keyed by KOS + series, derived from the ImagingStudy', () => {
    const { state, kosUid, seriesA, seriesB } = withKos();
    const writes = keyImageWrites(state, opts('R5'), { imagingStudyReference: 'ImagingStudy/77' });
    expect(writes.map((w) => [w.resourceType, w.seriesInstanceUid, w.query, w.id])).toEqual([
      ['ImagingSelection', seriesA, keyImageConditionalQuery(kosUid, 'R5', seriesA), keyImageId(kosUid, seriesA)],
      ['ImagingSelection', seriesB, keyImageConditionalQuery(kosUid, 'R5', seriesB), keyImageId(kosUid, seriesB)],
    ]);
    expect(writes[0]!.query).toBe(
      `identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${kosUid}`)}&identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${seriesA}`)}`,
    );
    const [a, b] = writes.map((w) => w.resource as any);
    expect(a.id).toBeUndefined();
    expect(a.derivedFrom).toEqual([{ reference: 'ImagingStudy/77' }]);
    expect(a.code.coding[0].code).toBe('113020');
    expect(a.seriesUid).toBe(seriesA);
    expect(a.instance).toEqual([
      { uid: `${seriesA}.1`, sopClass: { system: 'urn:ietf:rfc:3986', code: `urn:oid:${CT}` } },
      { uid: `${seriesA}.2`, sopClass: { system: 'urn:ietf:rfc:3986', code: `urn:oid:${CT}` }, subset: ['1', '3'] },
    ]);
    expect(b.instance.map((i: any) => i.uid)).toEqual([`${seriesB}.1`]);
    expect(validateR5(a)).toEqual([]);
    expect(validateR5(b)).toEqual([]);
    expect(new Set(writes.map((w) => w.id)).size).toBe(2);
  });

  it('STU3: one ImagingManifest per KOS, keyed by the KOS alone', () => {
    const { state, kosUid, seriesA, seriesB } = withKos();
    const writes = keyImageWrites(state, opts('STU3'), { imagingStudyReference: 'ImagingStudy/77' });
    expect(writes).toHaveLength(1);
    const [w] = writes;
    expect(w!.resourceType).toBe('ImagingManifest');
    expect(w!.seriesInstanceUid).toBeUndefined();
    expect(w!.query).toBe(`identifier=${encodeURIComponent(`urn:ietf:rfc:3986|urn:oid:${kosUid}`)}`);
    expect(w!.id).toBe(keyImageId(kosUid));
    const manifest = w!.resource as any;
    expect(assertStu3ImagingManifestShape(manifest)).toEqual([]);
    expect(manifest.study[0].imagingStudy).toEqual({ reference: 'ImagingStudy/77' });
    expect(manifest.study[0].series.map((s: any) => s.uid)).toEqual([`urn:oid:${seriesA}`, `urn:oid:${seriesB}`]);
  });

  it('R4 with keyImages off (default): nothing', () => {
    const { state } = withKos();
    expect(keyImageWrites(state, opts('R4'))).toEqual([]);
    expect(keyImageWrites(state, opts('R4'), { keyImages: 'off', imagingStudyReference: 'ImagingStudy/77' })).toEqual([]);
  });

  it('R4 with keyImages extensions: a valid xver Basic per referenced series', () => {
    const { state, kosUid, seriesA, seriesB } = withKos();
    const writes = keyImageWrites(state, opts('R4'), { keyImages: 'extensions', imagingStudyReference: 'ImagingStudy/77' });
    expect(writes.map((w) => [w.resourceType, w.query])).toEqual([
      ['Basic', keyImageConditionalQuery(kosUid, 'R4', seriesA)],
      ['Basic', keyImageConditionalQuery(kosUid, 'R4', seriesB)],
    ]);
    for (const w of writes) {
      const basic = w.resource as any;
      expect(basic.meta.profile).toEqual([XVER_IMAGING_SELECTION_PROFILE]);
      expect(basic.code.coding[0].code).toBe('113020');
      expect(basic.extension.find((e: any) => e.url.endsWith('.derivedFrom')).valueReference).toEqual({ reference: 'ImagingStudy/77' });
      expect(validateR4(basic)).toEqual([]);
    }
  });

  it('a study without KOS gives nothing', () => {
    expect(keyImageWrites(minimalStudy(), opts('R5'))).toEqual([]);
  });

  it('localResources adds the key images with their deterministic ids, referring to the local ImagingStudy', () => {
    const { state, kosUid, seriesA, seriesB } = withKos();
    const resources = localResources(state, opts('R5'), mapImagingStudy, undefined);
    const selections = resources.filter((r) => r.resourceType === 'ImagingSelection') as any[];
    expect(selections.map((r) => r.id)).toEqual([keyImageId(kosUid, seriesA), keyImageId(kosUid, seriesB)]);
    const study = resources.find((r) => r.resourceType === 'ImagingStudy')!;
    expect(selections[0].derivedFrom).toEqual([{ reference: `ImagingStudy/${study.id}` }]);
    expect(localResources(state, opts('R4'), mapImagingStudy, undefined).map((r) => r.resourceType)).not.toContain('Basic');
    expect(
      localResources(state, opts('R4'), mapImagingStudy, undefined, 'extensions').filter((r) => r.resourceType === 'Basic'),
    ).toHaveLength(2);
  });
});

describe('Publisher key-image step', () => {
  /** A store holding one study, recording publish statuses; a client recording writes, failing key images while `failing`. */
  function setup(fhirVersion: MappingOptions['fhirVersion'], keyImages: 'off' | 'extensions' = 'off') {
    const { state, kosUid } = withKos();
    let status: any = { state: 'pending', attempts: 0 };
    const store = {
      beginPublish: async () => {
        status = { ...status, state: 'pending', attempts: status.attempts + 1 };
        return { state, status, generation: 1 };
      },
      finishPublish: async (_uid: string, _generation: number, outcome: PublishFinish) => {
        status = { ...status, ...finishedStatus(outcome), state: outcome.state };
        return outcome.state;
      },
    } as unknown as StudyStore;
    const puts: Array<{ type: string; query: string; resource: any }> = [];
    const local: any[] = [];
    let failing = 0;
    const client = {
      search: async () => ({ status: 200, resource: { resourceType: 'Bundle', type: 'searchset', entry: [] } }),
      conditionalUpdate: async (type: string, query: string, resource: any) => {
        if (type !== 'ImagingStudy' && failing > 0) {
          failing--;
          throw new FhirHttpError(`PUT ${type} → 503`, 503);
        }
        puts.push({ type, query, resource });
        return { status: 201, resource: { ...resource, id: type === 'ImagingStudy' ? 'srv-1' : `srv-${puts.length}` } };
      },
    } as unknown as FhirClient;
    const publisher = new Publisher({
      queue: {} as JobQueue,
      store,
      client,
      probe: false,
      keyImages,
      localIndex: { put: async (r) => void local.push(...r) },
      mappingOptionsFor: () => opts(fhirVersion),
      logger: silentLogger,
    });
    return { state, kosUid, publisher, puts, local, status: () => status, fail: (n: number) => (failing = n) };
  }

  it('R5: the ImagingStudy, then one conditional update per selection referring to the server id; the local index gets them too', async () => {
    const t = setup('R5');
    await t.publisher.publish(t.state.studyInstanceUid);
    expect(t.status().state).toBe('published');
    expect(t.puts.map((p) => p.type)).toEqual(['ImagingStudy', 'ImagingSelection', 'ImagingSelection']);
    const writes = keyImageWrites(t.state, opts('R5'));
    expect(t.puts.slice(1).map((p) => p.query)).toEqual(writes.map((w) => w.query));
    expect(t.puts[1]!.resource.derivedFrom).toEqual([{ reference: 'ImagingStudy/srv-1' }]);
    expect(t.puts[1]!.resource.id).toBeUndefined();
    expect(t.local.filter((r) => r.resourceType === 'ImagingSelection').map((r) => r.id)).toEqual(writes.map((w) => w.id));
  });

  it('a failed key-image write leaves the study pending and rejects (retried); the retry publishes', async () => {
    const t = setup('R4', 'extensions');
    t.fail(1);
    const err = await t.publisher.publish(t.state.studyInstanceUid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirHttpError);
    expect(t.status()).toMatchObject({ state: 'pending', lastError: expect.stringContaining('503') });
    await t.publisher.publish(t.state.studyInstanceUid);
    expect(t.status().state).toBe('published');
    expect(t.puts.filter((p) => p.type === 'Basic')).toHaveLength(2);
  });

  it('R4 with keyImages off: only the ImagingStudy is written', async () => {
    const t = setup('R4');
    await t.publisher.publish(t.state.studyInstanceUid);
    expect(t.status().state).toBe('published');
    expect(t.puts.map((p) => p.type)).toEqual(['ImagingStudy']);
  });
});
