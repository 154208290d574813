import { describe, expect, it } from 'vitest';
import type { KeyObjectDocument } from '../../src/dicom/key-object-document.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import {
  emptyStudyStatus,
  keyImageConditionalQuery,
  keyImageResourceType,
  mapKeyImageSelections,
  rejectedInstanceUids,
  XVER_IMAGING_SELECTION_EXT,
  XVER_IMAGING_SELECTION_PROFILE,
  type KeyImageContext,
} from '../../src/fhir/map-key-images.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import type { StudyState } from '../../src/dicom/study-state.js';
import { validateR4, validateR5 } from '../support/fhir-validate.js';
import { assertStu3ImagingManifestShape } from '../support/fhir-validate-manifest.js';
import { instance, minimalStudy, options, series } from './fixtures.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const STUDY = '1.2.826.0.1.3680043.8.498.10.1';
const CT_SERIES = `${STUDY}.1`;
const US_SERIES = `${STUDY}.2`;
const KOS_SERIES = `${STUDY}.90`;
const KOS_UID = `${STUDY}.90.1`;
const KOS_CLASS = '1.2.840.10008.5.1.4.1.1.88.59';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const US_MF = '1.2.840.10008.5.1.4.1.1.3.1';
const OTHER_STUDY = '1.2.826.0.1.3680043.8.498.11';
const sop = (uid: string) => ({ system: 'urn:ietf:rfc:3986', code: `urn:oid:${uid}` });

/** What key-object.ts reads from fixtures/kos/report-attachment.dump. */
function reportAttachment(): KeyObjectDocument {
  return {
    title: { codeValue: '113020', codingSchemeDesignator: 'DCM', codeMeaning: 'For Report Attachment' },
    isRejection: false,
    description: 'Images attached to the report of 2024-07-06',
    contentDate: '20240706',
    contentTime: '091500',
    observer: { alphabetic: 'Smith^John^^Dr' },
    references: [
      { studyInstanceUid: STUDY, seriesInstanceUid: CT_SERIES, sopClassUid: CT, sopInstanceUid: `${CT_SERIES}.1`, retrieveAeTitle: 'PACS_A' },
      { studyInstanceUid: STUDY, seriesInstanceUid: CT_SERIES, sopClassUid: CT, sopInstanceUid: `${CT_SERIES}.2`, retrieveAeTitle: 'PACS_A' },
      { studyInstanceUid: STUDY, seriesInstanceUid: US_SERIES, sopClassUid: US_MF, sopInstanceUid: `${US_SERIES}.1`, frames: [1, 3, 5] },
    ],
  };
}

function rejection(reason: '113001' | '113037' | '113038' | '113039'): KeyObjectDocument {
  return {
    ...reportAttachment(),
    title: { codeValue: reason, codingSchemeDesignator: 'DCM', codeMeaning: 'Rejected' },
    isRejection: true,
    rejectionReason: reason,
  };
}

/** The resources alone, in order (the series of each is checked in 'identity and pipeline helpers'). */
const resourcesOf = (kos: KeyObjectDocument, ctx: KeyImageContext) => mapKeyImageSelections(kos, ctx).map((s) => s.resource);

function context(overrides: Partial<KeyImageContext> = {}, opts: Partial<MappingOptions> = {}): KeyImageContext {
  return {
    studyInstanceUid: STUDY,
    seriesInstanceUid: KOS_SERIES,
    kosSopInstanceUid: KOS_UID,
    kosSopClassUid: KOS_CLASS,
    patient: { patientName: { alphabetic: 'Doe^Jane' }, patientId: 'PID-0010', issuerOfPatientId: 'HOSP_A' },
    timezoneOffsetFromUtc: '+0200',
    options: options({ fhirVersion: 'R5', ...opts }),
    ...overrides,
  };
}

describe('R5 ImagingSelection', () => {
  const [ct, us, ...rest] = resourcesOf(reportAttachment(), context({ imagingStudyReference: 'ImagingStudy/42' }));

  it('one selection per referenced series, valid against the R5 schema', () => {
    expect(rest).toEqual([]);
    expect(validateR5(ct)).toEqual([]);
    expect(validateR5(us)).toEqual([]);
  });

  it('has the KOS and series identifiers, status, subject, issued, performer, code, study/series UIDs and instances', () => {
    expect(ct).toEqual({
      resourceType: 'ImagingSelection',
      identifier: [
        { system: 'urn:dicom:uid', value: `urn:oid:${KOS_UID}` },
        { type: { coding: [{ system: DCM, code: '112002', display: 'Series Instance UID' }] }, system: 'urn:dicom:uid', value: `urn:oid:${CT_SERIES}` },
      ],
      status: 'available',
      subject: { type: 'Patient', identifier: { system: 'urn:oid:1.2.392.100.1', value: 'PID-0010' }, display: 'Jane Doe' },
      issued: '2024-07-06T09:15:00+02:00',
      performer: [{ actor: { display: 'Dr John Smith' } }],
      code: { coding: [{ system: DCM, code: '113020', display: 'For Report Attachment' }], text: 'For Report Attachment' },
      studyUid: STUDY,
      derivedFrom: [{ reference: 'ImagingStudy/42' }],
      endpoint: [{ reference: 'Endpoint/dicomweb-1' }],
      seriesUid: CT_SERIES,
      instance: [
        { uid: `${CT_SERIES}.1`, sopClass: sop(CT) },
        { uid: `${CT_SERIES}.2`, sopClass: sop(CT) },
      ],
    });
  });

  it('frame numbers become instance.subset strings', () => {
    expect((us as { seriesUid: string }).seriesUid).toBe(US_SERIES);
    expect((us as { instance: unknown }).instance).toEqual([{ uid: `${US_SERIES}.1`, sopClass: sop(US_MF), subset: ['1', '3', '5'] }]);
  });

  it('derivedFrom is a logical reference by study UID without a passed reference, and for another study', () => {
    const kos = reportAttachment();
    kos.references.push({ studyInstanceUid: OTHER_STUDY, seriesInstanceUid: `${OTHER_STUDY}.1`, sopClassUid: CT, sopInstanceUid: `${OTHER_STUDY}.1.1` });
    const all = resourcesOf(kos, context({ imagingStudyReference: 'ImagingStudy/42' })) as Array<{ studyUid: string; derivedFrom: unknown }>;
    expect(all.map((s) => s.studyUid)).toEqual([STUDY, STUDY, OTHER_STUDY]);
    expect(all[2]!.derivedFrom).toEqual([{ type: 'ImagingStudy', identifier: { system: 'urn:dicom:uid', value: `urn:oid:${OTHER_STUDY}` } }]);
    const logical = resourcesOf(reportAttachment(), context())[0] as { derivedFrom: unknown };
    expect(logical.derivedFrom).toEqual([{ type: 'ImagingStudy', identifier: { system: 'urn:dicom:uid', value: `urn:oid:${STUDY}` } }]);
    for (const s of all) expect(validateR5(s)).toEqual([]);
  });

  it('uses the resolved Patient reference when the publisher has one', () => {
    const [s] = resourcesOf(reportAttachment(), context({}, { patientReference: 'Patient/7' })) as Array<{ subject: unknown }>;
    expect(s!.subject).toEqual({ reference: 'Patient/7', display: 'Jane Doe' });
  });

  it('without a content time: no issued (an instant needs one); an unknown scheme keeps the meaning as text', () => {
    const kos: KeyObjectDocument = { ...reportAttachment(), contentTime: undefined, title: { codeValue: 'KI', codingSchemeDesignator: '99LOCAL', codeMeaning: 'Key images' } };
    delete kos.contentTime;
    const [s] = resourcesOf(kos, context()) as unknown as Array<Record<string, unknown>>;
    expect(s!.issued).toBeUndefined();
    expect(s!.code).toEqual({ text: 'Key images' });
    expect(validateR5(s)).toEqual([]);
  });

  it('a DCM title without meaning gets the CID 7010 display', () => {
    const kos: KeyObjectDocument = { ...reportAttachment(), title: { codeValue: '113004', codingSchemeDesignator: 'DCM' } };
    const [s] = resourcesOf(kos, context()) as Array<{ code: unknown }>;
    expect(s!.code).toEqual({ coding: [{ system: DCM, code: '113004', display: 'For Teaching' }], text: 'For Teaching' });
  });

  it('a patient without ID or name: subject carries only data-absent-reason, still valid', () => {
    const [s] = resourcesOf(reportAttachment(), context({ patient: {} }));
    expect((s as { subject: unknown }).subject).toEqual({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] });
    expect(validateR5(s)).toEqual([]);
  });
});

describe('STU3 ImagingManifest', () => {
  const resources = resourcesOf(reportAttachment(), context({ imagingStudyReference: 'ImagingStudy/42' }, { fhirVersion: 'STU3' }));

  it('one manifest per KOS, with STU3 element names only', () => {
    expect(resources).toHaveLength(1);
    expect(assertStu3ImagingManifestShape(resources[0])).toEqual([]);
  });

  it('carries identifier, patient, authoringTime, author, description and study → series → instance as urn:oid', () => {
    expect(resources[0]).toEqual({
      resourceType: 'ImagingManifest',
      identifier: { system: 'urn:ietf:rfc:3986', value: `urn:oid:${KOS_UID}` },
      patient: { identifier: { system: 'urn:oid:1.2.392.100.1', value: 'PID-0010' }, display: 'Jane Doe' },
      authoringTime: '2024-07-06T09:15:00+02:00',
      author: { display: 'Dr John Smith' },
      description: 'For Report Attachment: Images attached to the report of 2024-07-06',
      study: [
        {
          uid: `urn:oid:${STUDY}`,
          imagingStudy: { reference: 'ImagingStudy/42' },
          endpoint: [{ reference: 'Endpoint/dicomweb-1' }],
          series: [
            {
              uid: `urn:oid:${CT_SERIES}`,
              instance: [
                { sopClass: `urn:oid:${CT}`, uid: `urn:oid:${CT_SERIES}.1` },
                { sopClass: `urn:oid:${CT}`, uid: `urn:oid:${CT_SERIES}.2` },
              ],
            },
            { uid: `urn:oid:${US_SERIES}`, instance: [{ sopClass: `urn:oid:${US_MF}`, uid: `urn:oid:${US_SERIES}.1` }] },
          ],
        },
      ],
    });
  });

  it('the shape check catches R4/R5 element names and plain UIDs', () => {
    const bad = { ...(resources[0] as object), status: 'available', study: [{ uid: STUDY, series: [] }] };
    expect(assertStu3ImagingManifestShape(bad)).toEqual([
      "ImagingManifest: element 'status' is not in STU3",
      'ImagingManifest.study[0].series is required in STU3',
      `ImagingManifest.study[0].uid '${STUDY}' is not urn:oid:`,
    ]);
  });
});

describe('R4', () => {
  it('by default nothing separate: the KOS is a series of the ImagingStudy, its title in instance.title', () => {
    expect(resourcesOf(reportAttachment(), context({}, { fhirVersion: 'R4' }))).toEqual([]);
    const state: StudyState = minimalStudy();
    state.series.push(
      series({ seriesInstanceUid: KOS_SERIES, seriesNumber: 90, modality: 'KO' }, [
        instance(KOS_UID, KOS_CLASS, { instanceNumber: 1, conceptNameCode: { codeValue: '113020', codingSchemeDesignator: 'DCM', codeMeaning: 'For Report Attachment' } }),
      ]),
    );
    const study = mapImagingStudy(state, options({ fhirVersion: 'R4' }));
    const ko = study.series!.find((s) => s.uid === KOS_SERIES)!;
    expect(ko.modality).toEqual({ system: DCM, code: 'KO', display: 'Key Object Selection' });
    expect(ko.instance).toEqual([{ uid: KOS_UID, sopClass: sop(KOS_CLASS), number: 1, title: 'For Report Attachment' }]);
    expect(validateR4(study)).toEqual([]);
  });

  it("with keyImages 'extensions': Basic resources with the R5 ImagingSelection cross-version extensions, valid R4", () => {
    const [ct, us, ...rest] = resourcesOf(reportAttachment(), context({ keyImages: 'extensions' }, { fhirVersion: 'R4' }));
    expect(rest).toEqual([]);
    expect(validateR4(ct)).toEqual([]);
    expect(validateR4(us)).toEqual([]);
    const x = (e: string) => `${XVER_IMAGING_SELECTION_EXT}.${e}`;
    const title = { coding: [{ system: DCM, code: '113020', display: 'For Report Attachment' }], text: 'For Report Attachment' };
    expect(ct).toEqual({
      resourceType: 'Basic',
      meta: { profile: [XVER_IMAGING_SELECTION_PROFILE] },
      extension: [
        { url: x('issued'), valueInstant: '2024-07-06T09:15:00+02:00' },
        { url: x('performer'), extension: [{ url: 'actor', valueReference: { display: 'Dr John Smith' } }] },
        { url: x('code'), valueCodeableConcept: title },
        { url: x('studyUid'), valueId: STUDY },
        { url: x('derivedFrom'), valueReference: { type: 'ImagingStudy', identifier: { system: 'urn:dicom:uid', value: `urn:oid:${STUDY}` } } },
        { url: x('endpoint'), valueReference: { reference: 'Endpoint/dicomweb-1' } },
        { url: x('seriesUid'), valueId: CT_SERIES },
        { url: x('instance'), extension: [{ url: 'uid', valueId: `${CT_SERIES}.1` }, { url: 'sopClass', valueCoding: sop(CT) }] },
        { url: x('instance'), extension: [{ url: 'uid', valueId: `${CT_SERIES}.2` }, { url: 'sopClass', valueCoding: sop(CT) }] },
      ],
      modifierExtension: [{ url: x('status'), valueCode: 'available' }],
      identifier: [
        { system: 'urn:dicom:uid', value: `urn:oid:${KOS_UID}` },
        { type: { coding: [{ system: DCM, code: '112002', display: 'Series Instance UID' }] }, system: 'urn:dicom:uid', value: `urn:oid:${CT_SERIES}` },
      ],
      code: title,
      subject: { type: 'Patient', identifier: { system: 'urn:oid:1.2.392.100.1', value: 'PID-0010' }, display: 'Jane Doe' },
    });
    expect((us as { extension: Array<{ url: string; extension?: unknown }> }).extension.filter((e) => e.url === x('instance'))).toEqual([
      { url: x('instance'), extension: [{ url: 'uid', valueId: `${US_SERIES}.1` }, { url: 'sopClass', valueCoding: sop(US_MF) }, { url: 'subset', valueString: '1' }, { url: 'subset', valueString: '3' }, { url: 'subset', valueString: '5' }] },
    ]);
  });
});

describe('identity and pipeline helpers', () => {
  it('conditional update queries', () => {
    expect(keyImageConditionalQuery(KOS_UID, 'R5', CT_SERIES)).toBe(
      `identifier=urn%3Adicom%3Auid%7Curn%3Aoid%3A${KOS_UID}&identifier=urn%3Adicom%3Auid%7Curn%3Aoid%3A${CT_SERIES}`,
    );
    expect(keyImageConditionalQuery(KOS_UID, 'R4', CT_SERIES)).toBe(keyImageConditionalQuery(KOS_UID, 'R5', CT_SERIES));
    expect(keyImageConditionalQuery(KOS_UID, 'R5')).toBe(`identifier=urn%3Adicom%3Auid%7Curn%3Aoid%3A${KOS_UID}`);
    expect(keyImageConditionalQuery(KOS_UID, 'STU3')).toBe(`identifier=urn%3Aietf%3Arfc%3A3986%7Curn%3Aoid%3A${KOS_UID}`);
  });

  it('the identifiers the queries search for are the ones the resources carry', () => {
    const [s] = resourcesOf(reportAttachment(), context()) as Array<{ identifier: Array<{ system: string; value: string }> }>;
    const tokens = s!.identifier.map((i) => `identifier=${encodeURIComponent(`${i.system}|${i.value}`)}`).join('&');
    expect(tokens).toBe(keyImageConditionalQuery(KOS_UID, 'R5', CT_SERIES));
  });

  it('resource type per version', () => {
    expect(keyImageResourceType('R5')).toBe('ImagingSelection');
    expect(keyImageResourceType('STU3')).toBe('ImagingManifest');
    expect(keyImageResourceType('R4')).toBeUndefined();
    expect(keyImageResourceType('R4', 'extensions')).toBe('Basic');
  });

  it('rejectedInstanceUids: the referenced instances of a rejection note, none for other titles', () => {
    expect(rejectedInstanceUids(rejection('113001'))).toEqual(new Set([`${CT_SERIES}.1`, `${CT_SERIES}.2`, `${US_SERIES}.1`]));
    expect(rejectedInstanceUids(reportAttachment())).toEqual(new Set());
  });

  it('emptyStudyStatus: entered-in-error for patient safety and wrong worklist entry, cancelled otherwise', () => {
    expect(emptyStudyStatus('113037')).toBe('entered-in-error');
    expect(emptyStudyStatus('113038')).toBe('entered-in-error');
    expect(emptyStudyStatus('113001')).toBe('cancelled');
    expect(emptyStudyStatus('113039')).toBe('cancelled');
  });

  it('each resource comes with the series it selects: R5 and R4 Basic one per series, the STU3 manifest none', () => {
    const r5 = mapKeyImageSelections(reportAttachment(), context());
    expect(r5.map((s) => s.seriesInstanceUid)).toEqual([CT_SERIES, US_SERIES]);
    expect(r5.map((s) => (s.resource as { seriesUid?: string }).seriesUid)).toEqual([CT_SERIES, US_SERIES]);
    const r4 = mapKeyImageSelections(reportAttachment(), context({ keyImages: 'extensions' }, { fhirVersion: 'R4' }));
    expect(r4.map((s) => [s.resource.resourceType, s.seriesInstanceUid])).toEqual([['Basic', CT_SERIES], ['Basic', US_SERIES]]);
    const stu3 = mapKeyImageSelections(reportAttachment(), context({}, { fhirVersion: 'STU3' }));
    expect(stu3.map((s) => [s.resource.resourceType, s.seriesInstanceUid])).toEqual([['ImagingManifest', undefined]]);
  });

  it('a KOS without references maps to nothing', () => {
    expect(resourcesOf({ ...reportAttachment(), references: [] }, context())).toEqual([]);
  });
});
