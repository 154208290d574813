import { describe, expect, test } from 'vitest';
import {
  conditionalUpdateQuery,
  mapImagingStudy,
  patientIdentifier,
  studyIdentifierQuery,
} from '../../src/fhir/map-imaging-study.js';
import type { FhirVersion } from '../../src/fhir/mapping-options.js';
import { resolvePatientIdentifier } from '../../src/fhir/patient-identifier.js';
import {
  CT_IMAGE_STORAGE,
  CT_SERIES_UID,
  fullStudy,
  instance,
  minimalStudy,
  options,
  PET_IMAGE_STORAGE,
  PT_SERIES_UID,
  SEG_STORAGE,
  series,
  STUDY_UID,
  withPatient,
  withStudy,
} from './fixtures.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const SCT = 'http://snomed.info/sct';
const ACSN_R4 = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] };
const ACSN_STU3 = { coding: [{ system: 'http://hl7.org/fhir/v2/0203', code: 'ACSN' }] };
const accession = (type: object) => ({ type, system: 'urn:oid:1.2.392.200036.9116', value: 'ACC-42', assigner: { display: 'RIS_EAST' } });
const sop = (uid: string) => ({ system: 'urn:ietf:rfc:3986', code: `urn:oid:${uid}` });
const CT = { system: DCM, code: 'CT', display: 'Computed Tomography' };
const PT = { system: DCM, code: 'PT', display: 'Positron emission tomography' };
const CHEST = { system: SCT, code: '816094009', display: 'Chest' };
const WHOLEBODY = { system: SCT, code: '38266002', display: 'Entire body' };
const LEFT = { system: SCT, code: '7771000', display: 'Left' };
const BILATERAL = { system: SCT, code: '51440002', display: 'Right and left' };
const procedureR4 = [
  { coding: [{ system: 'http://radlex.org', code: 'RPID14', display: 'PET-CT whole body' }], text: 'PET-CT whole body' },
  { text: 'Local PET-CT protocol' },
];
const PART = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const PRF = { coding: [{ system: PART, code: 'PRF', display: 'performer' }] };
const SPRF = { coding: [{ system: PART, code: 'SPRF', display: 'secondary performer' }] };
const reasonCC = { coding: [{ system: SCT, code: '363358000', display: 'Malignant tumor of lung' }], text: 'Staging of lung cancer' };

const expectedR4 = {
  resourceType: 'ImagingStudy',
  identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${STUDY_UID}` }, accession(ACSN_R4), { value: 'S77' }],
  status: 'available',
  modality: [CT, PT],
  subject: { type: 'Patient', identifier: { system: 'urn:oid:1.2.392.100.1', value: 'PID-0001' }, display: 'Tarou Yamada' },
  started: '2024-07-05T14:30:15.123+09:00',
  basedOn: [{ type: 'ServiceRequest', identifier: accession(ACSN_R4), display: 'PET-CT staging' }],
  referrer: { display: 'Dr Hanako Suzuki' },
  interpreter: [{ display: 'Ichiro Tanaka' }, { display: 'Jiro M Sato' }],
  endpoint: [{ reference: 'Endpoint/dicomweb-1' }],
  numberOfSeries: 2,
  numberOfInstances: 5,
  procedureCode: procedureR4,
  location: { display: 'PET-CT room 2' },
  reasonCode: [reasonCC],
  description: 'PET-CT whole body',
  series: [
    {
      uid: CT_SERIES_UID,
      number: 1,
      modality: CT,
      description: 'CT chest',
      numberOfInstances: 3,
      bodySite: CHEST,
      laterality: LEFT,
      started: '2024-07-05T14:35:00+09:00',
      performer: [
        { function: PRF, actor: { display: 'Yuki Kato' } },
        { function: SPRF, actor: { display: 'Ken Ito' } },
        { function: SPRF, actor: { display: 'Yuki Kato' } },
      ],
      instance: [
        { uid: `${CT_SERIES_UID}.1`, sopClass: sop(CT_IMAGE_STORAGE), number: 1, title: 'Dose report' },
        { uid: `${CT_SERIES_UID}.2`, sopClass: sop(CT_IMAGE_STORAGE), number: 2, title: 'Scout' },
        { uid: `${CT_SERIES_UID}.10`, sopClass: sop(CT_IMAGE_STORAGE), number: 10 },
      ],
    },
    {
      uid: PT_SERIES_UID,
      number: 2,
      modality: PT,
      description: 'PET WB',
      numberOfInstances: 2,
      bodySite: WHOLEBODY,
      laterality: BILATERAL,
      started: '2024-07-05T14:50:00+09:00',
      performer: [{ function: SPRF, actor: { display: 'Ken Ito' } }],
      instance: [
        { uid: `${PT_SERIES_UID}.1`, sopClass: sop(PET_IMAGE_STORAGE), number: 1 },
        { uid: `${PT_SERIES_UID}.2`, sopClass: sop(SEG_STORAGE), number: 2, title: 'TUMOR' },
      ],
    },
  ],
};

const concept = (coding: object) => ({ coding: [coding] });
const expectedR5 = {
  resourceType: 'ImagingStudy',
  // R5's mapping: with basedOn the accession is in basedOn only (issue 19 item 6).
  identifier: expectedR4.identifier.filter((i) => !('type' in i)),
  status: 'available',
  modality: [concept(CT), concept(PT)],
  subject: expectedR4.subject,
  started: expectedR4.started,
  basedOn: expectedR4.basedOn,
  referrer: expectedR4.referrer,
  endpoint: expectedR4.endpoint,
  numberOfSeries: 2,
  numberOfInstances: 5,
  procedure: procedureR4.map((c) => ({ concept: c })),
  location: { display: 'PET-CT room 2' },
  reason: [{ concept: reasonCC }],
  description: 'PET-CT whole body',
  series: [
    {
      ...expectedR4.series[0],
      modality: concept(CT),
      bodySite: { concept: concept(CHEST) },
      laterality: concept(LEFT),
    },
    {
      ...expectedR4.series[1],
      modality: concept(PT),
      bodySite: { concept: concept(WHOLEBODY) },
      laterality: concept(BILATERAL),
    },
  ],
};

const oid = (uid: string) => `urn:oid:${uid}`;
const expectedSTU3 = {
  resourceType: 'ImagingStudy',
  uid: oid(STUDY_UID),
  accession: accession(ACSN_STU3),
  identifier: [{ value: 'S77' }],
  availability: 'ONLINE',
  modalityList: [CT, PT],
  patient: { identifier: { system: 'urn:oid:1.2.392.100.1', value: 'PID-0001' }, display: 'Tarou Yamada' },
  started: expectedR4.started,
  basedOn: [{ identifier: accession(ACSN_STU3), display: 'PET-CT staging' }],
  referrer: expectedR4.referrer,
  interpreter: expectedR4.interpreter,
  endpoint: expectedR4.endpoint,
  numberOfSeries: 2,
  numberOfInstances: 5,
  procedureCode: procedureR4,
  reason: reasonCC,
  description: 'PET-CT whole body',
  series: [
    {
      uid: oid(CT_SERIES_UID),
      number: 1,
      modality: CT,
      description: 'CT chest',
      numberOfInstances: 3,
      bodySite: CHEST,
      laterality: LEFT,
      started: '2024-07-05T14:35:00+09:00',
      performer: [{ display: 'Yuki Kato' }, { display: 'Ken Ito' }],
      instance: [
        { uid: oid(`${CT_SERIES_UID}.1`), number: 1, sopClass: oid(CT_IMAGE_STORAGE), title: 'Dose report' },
        { uid: oid(`${CT_SERIES_UID}.2`), number: 2, sopClass: oid(CT_IMAGE_STORAGE), title: 'Scout' },
        { uid: oid(`${CT_SERIES_UID}.10`), number: 10, sopClass: oid(CT_IMAGE_STORAGE) },
      ],
    },
    {
      uid: oid(PT_SERIES_UID),
      number: 2,
      modality: PT,
      description: 'PET WB',
      numberOfInstances: 2,
      bodySite: WHOLEBODY,
      laterality: BILATERAL,
      started: '2024-07-05T14:50:00+09:00',
      performer: [{ display: 'Ken Ito' }],
      instance: [
        { uid: oid(`${PT_SERIES_UID}.1`), number: 1, sopClass: oid(PET_IMAGE_STORAGE) },
        { uid: oid(`${PT_SERIES_UID}.2`), number: 2, sopClass: oid(SEG_STORAGE), title: 'TUMOR' },
      ],
    },
  ],
};

/** Same JSON, same key order (element order follows each version's spec). */
function expectSameJson(actual: unknown, expected: unknown): void {
  expect(actual).toStrictEqual(expected);
  expect(JSON.stringify(actual, null, 1)).toBe(JSON.stringify(expected, null, 1));
}

describe('fully populated study (2 series, CT + PT)', () => {
  test.each([
    ['R4', expectedR4],
    ['R5', expectedR5],
    ['STU3', expectedSTU3],
  ] as const)('%s: every element, in specification order', (version, expected) => {
    expectSameJson(mapImagingStudy(fullStudy(), options({ fhirVersion: version })), expected);
  });

  test('R4 is the default when the version is unknown at runtime', () => {
    const r = mapImagingStudy(fullStudy(), options({ fhirVersion: 'R6' as FhirVersion }));
    expect(r).toStrictEqual(expectedR4);
  });

  test('the mapping is pure: same input, same output; input not mutated', () => {
    const state = fullStudy();
    const before = JSON.stringify(state);
    const a = mapImagingStudy(state, options());
    const b = mapImagingStudy(state, options());
    expect(a).toStrictEqual(b);
    expect(JSON.stringify(state)).toBe(before);
  });
});

const versions: FhirVersion[] = ['R4', 'R5', 'STU3'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('rules, per version', () => {
  test.each(versions)('%s: missing Series/Instance Numbers are left out, never 0', (v) => {
    const state = minimalStudy();
    const r: Json = mapImagingStudy(state, options({ fhirVersion: v }));
    expect(r.series[0]).not.toHaveProperty('number');
    expect(r.series[0].instance[0]).not.toHaveProperty('number');
    expect(JSON.stringify(r)).not.toMatch(/"number":0/);
  });

  test.each(versions)('%s: a real Series Number 0 is kept; a negative one is dropped and reported', (v) => {
    const seen: string[] = [];
    const state = minimalStudy();
    state.series = [
      series({ seriesInstanceUid: '1.2.3.4', seriesNumber: 0, modality: 'CT' }, [instance('1.2.3.4.1', CT_IMAGE_STORAGE, { instanceNumber: -1 })]),
    ];
    const r: Json = mapImagingStudy(state, options({ fhirVersion: v, onDropped: (w, x) => seen.push(`${w}=${x}`) }));
    expect(r.series[0].number).toBe(0);
    expect(r.series[0].instance[0]).not.toHaveProperty('number');
    expect(seen).toEqual(['InstanceNumber=-1']);
  });

  test.each([
    ['R4', { display: 'KNEECAP' }, { display: 'X' }],
    ['R5', { concept: { text: 'KNEECAP' } }, { text: 'X' }],
    ['STU3', { display: 'KNEECAP' }, { display: 'X' }],
  ] as const)('%s: unknown body part and laterality keep the DICOM text, no invented code', (v, bodySite, laterality) => {
    const state = minimalStudy();
    state.series[0]!.attributes = { ...state.series[0]!.attributes, bodyPartExamined: 'KNEECAP', laterality: 'X' };
    const r: Json = mapImagingStudy(state, options({ fhirVersion: v }));
    expect(r.series[0].bodySite).toStrictEqual(bodySite);
    expect(r.series[0].laterality).toStrictEqual(laterality);
  });

  test.each([
    ['R4', { display: 'ZZ' }, 'modality'],
    ['R5', { text: 'ZZ' }, 'modality'],
    ['STU3', { display: 'ZZ' }, 'modalityList'],
  ] as const)('%s: unknown modality keeps the text', (v, expected, listName) => {
    const state = minimalStudy();
    state.series[0]!.attributes.modality = 'ZZ';
    const r: Json = mapImagingStudy(state, options({ fhirVersion: v }));
    expect(r.series[0].modality).toStrictEqual(expected);
    expect(r[listName]).toStrictEqual([expected]);
  });

  test.each(versions)('%s: lower-case body part, modality and laterality still match the tables', (v) => {
    const state = minimalStudy();
    state.series[0]!.attributes = { ...state.series[0]!.attributes, bodyPartExamined: 'chest', modality: 'ct', laterality: 'r' };
    const s = JSON.stringify(mapImagingStudy(state, options({ fhirVersion: v })));
    expect(s).toContain('"816094009"');
    expect(s).toContain('"code":"CT"');
    expect(s).toContain('"24028007"');
  });

  test.each(versions)('%s: counts are distinct series and SOP instances; modality list distinct', (v) => {
    const state = fullStudy();
    const ct = state.series[1]!;
    // A re-sent instance and the same series reported twice.
    state.series.push(series({ ...ct.attributes }, [instance(`${CT_SERIES_UID}.1`, CT_IMAGE_STORAGE, { instanceNumber: 1 }), instance(`${CT_SERIES_UID}.11`, CT_IMAGE_STORAGE)]));
    ct.instances.push(instance(`${CT_SERIES_UID}.2`, CT_IMAGE_STORAGE, { instanceNumber: 2 }));
    const r: Json = mapImagingStudy(state, options({ fhirVersion: v }));
    expect(r.numberOfSeries).toBe(2);
    expect(r.numberOfInstances).toBe(6);
    expect(r.series.map((s: Json) => s.numberOfInstances)).toEqual([4, 2]);
    expect((r.modality ?? r.modalityList).length).toBe(2);
    // Instance without a number sorts after the numbered ones.
    expect(r.series[0].instance.map((i: Json) => i.number ?? null)).toEqual([1, 2, 10, null]);
  });

  test.each(versions)('%s: series sorted by number then UID (numeric UID components), missing numbers last', (v) => {
    const state = minimalStudy();
    state.series = [
      series({ seriesInstanceUid: '1.2.3.10' }, [instance('1.2.3.10.1', CT_IMAGE_STORAGE)]),
      series({ seriesInstanceUid: '1.2.3.9' }, [instance('1.2.3.9.1', CT_IMAGE_STORAGE)]),
      series({ seriesInstanceUid: '1.2.3.99', seriesNumber: 5 }, [instance('1.2.3.99.1', CT_IMAGE_STORAGE)]),
      series({ seriesInstanceUid: '1.2.3.1', seriesNumber: 5 }, [instance('1.2.3.1.1', CT_IMAGE_STORAGE)]),
    ];
    const r: Json = mapImagingStudy(state, options({ fhirVersion: v }));
    const uids = r.series.map((s: Json) => String(s.uid).replace('urn:oid:', ''));
    expect(uids).toEqual(['1.2.3.1', '1.2.3.99', '1.2.3.9', '1.2.3.10']);
  });

  test.each([
    ['R4', 'subject', { type: 'Patient', identifier: { system: 'urn:oid:1.2.3.999', value: 'X1' } }],
    ['R5', 'subject', { type: 'Patient', identifier: { system: 'urn:oid:1.2.3.999', value: 'X1' } }],
    ['STU3', 'patient', { identifier: { system: 'urn:oid:1.2.3.999', value: 'X1' } }],
  ] as const)('%s: logical patient reference by identifier', (v, name, expected) => {
    const r: Json = mapImagingStudy(withPatient(minimalStudy(), { patientId: 'X1' }), options({ fhirVersion: v }));
    expect(r[name]).toStrictEqual(expected);
  });

  test.each([
    ['R4', 'subject'],
    ['R5', 'subject'],
    ['STU3', 'patient'],
  ] as const)('%s: resolved patient reference wins', (v, name) => {
    const r: Json = mapImagingStudy(fullStudy(), options({ fhirVersion: v, patientReference: 'urn:uuid:0b7c7cc2-9d6f-4e6b-9a8e-5d0f6a1b2c3d' }));
    expect(r[name]).toStrictEqual({ reference: 'urn:uuid:0b7c7cc2-9d6f-4e6b-9a8e-5d0f6a1b2c3d', display: 'Tarou Yamada' });
  });

  test.each([
    ['R4', 'subject'],
    ['R5', 'subject'],
    ['STU3', 'patient'],
  ] as const)('%s: no Patient ID → name display, else data-absent-reason (element is 1..1)', (v, name) => {
    const named: Json = mapImagingStudy(withPatient(minimalStudy(), { patientName: { alphabetic: 'Doe^Jane' } }), options({ fhirVersion: v }));
    expect(named[name]).toStrictEqual({ display: 'Jane Doe' });
    const anonymous: Json = mapImagingStudy(minimalStudy(), options({ fhirVersion: v }));
    expect(anonymous[name]).toStrictEqual({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] });
  });

  test.each(versions)('%s: basedOn off, no endpoint reference → neither element', (v) => {
    const r: Json = mapImagingStudy(fullStudy(), options({ fhirVersion: v, basedOn: 'off', endpointReference: undefined }));
    expect(r).not.toHaveProperty('basedOn');
    expect(r).not.toHaveProperty('endpoint');
  });

  test.each(versions)('%s: series started falls back to the Study Date when only Series Time is present', (v) => {
    const state = withStudy(minimalStudy(), { studyDate: '20240105', timezoneOffsetFromUtc: '+0100' });
    state.series[0]!.attributes.seriesTime = '0930';
    const r: Json = mapImagingStudy(state, options({ fhirVersion: v }));
    expect(r.started).toBe('2024-01-05');
    expect(r.series[0].started).toBe('2024-01-05T09:30:00+01:00');
  });

  test.each(versions)('%s: malformed study date is dropped and reported, never thrown', (v) => {
    const seen: string[] = [];
    const state = withStudy(minimalStudy(), { studyDate: '2024-01-05', studyTime: '25' });
    const r: Json = mapImagingStudy(state, options({ fhirVersion: v, onDropped: (w, x) => { seen.push(`${w}=${x}`); throw new Error('sink failure is contained'); } }));
    expect(r).not.toHaveProperty('started');
    expect(seen).toEqual(['StudyDate=2024-01-05', 'StudyTime=25']);
  });

  test('STU3 availability is configurable', () => {
    const r: Json = mapImagingStudy(minimalStudy(), options({ fhirVersion: 'STU3', availability: 'NEARLINE' }));
    expect(r.availability).toBe('NEARLINE');
  });

  test('R5 has no interpreter element', () => {
    expect(mapImagingStudy(fullStudy(), options({ fhirVersion: 'R5' }))).not.toHaveProperty('interpreter');
  });
});

describe('accession issuer → identifier', () => {
  test.each([
    ['ISO universal id → urn:oid system, local id as assigner', { localNamespaceEntityId: 'RIS', universalEntityId: '1.2.3.4', universalEntityIdType: 'ISO' }, { system: 'urn:oid:1.2.3.4', assigner: { display: 'RIS' } }],
    ['URI universal id → system', { universalEntityId: 'https://ris.example/acc', universalEntityIdType: 'URI' }, { system: 'https://ris.example/acc' }],
    ['local namespace only → assigner display, no system', { localNamespaceEntityId: 'RIS WEST' }, { assigner: { display: 'RIS WEST' } }],
    ['local namespace in the issuer table → that system', { localNamespaceEntityId: 'HOSP_B' }, { system: 'https://hosp-b.example/mrn', assigner: { display: 'HOSP_B' } }],
    ['non-OID with type ISO → not a system', { universalEntityId: 'RIS-1', universalEntityIdType: 'ISO' }, { assigner: { display: 'RIS-1' } }],
    ['no issuer', undefined, {}],
  ])('%s', (_name, issuer, expected) => {
    const state = withStudy(minimalStudy(), { accessionNumber: 'A1', ...(issuer ? { issuerOfAccessionNumber: issuer } : {}) });
    const r: Json = mapImagingStudy(state, options());
    const acc = r.identifier.find((i: Json) => i.type?.coding?.[0]?.code === 'ACSN');
    const { system, assigner } = expected as { system?: string; assigner?: object };
    expect(acc).toStrictEqual({ type: ACSN_R4, ...(system ? { system } : {}), value: 'A1', ...(assigner ? { assigner } : {}) });
  });
});

describe('patient identifier system', () => {
  const base = (patch: Partial<ReturnType<typeof minimalStudy>['patient']>) => withPatient(minimalStudy(), { patientId: 'P1', ...patch });
  test.each([
    ['issuer in the table', base({ issuerOfPatientId: 'HOSP_A' }), {}, 'urn:oid:1.2.392.100.1', undefined, 'issuer'],
    ['issuer not in the table → default system, issuer kept as assigner', base({ issuerOfPatientId: 'Some Clinic' }), {}, 'urn:oid:1.2.3.999', 'Some Clinic', 'default'],
    ['qualifier universal id in the table', base({ issuerOfPatientIdQualifiers: { universalEntityId: 'HOSP_B' } }), {}, 'https://hosp-b.example/mrn', undefined, 'qualifier-table'],
    ['qualifier ISO OID → urn:oid', base({ issuerOfPatientId: 'CLINIC', issuerOfPatientIdQualifiers: { universalEntityId: '2.16.840.1.113883.3.1', universalEntityIdType: 'ISO' } }), {}, 'urn:oid:2.16.840.1.113883.3.1', 'CLINIC', 'qualifier-uid'],
    ['qualifier local namespace in the table', base({ issuerOfPatientIdQualifiers: { localNamespaceEntityId: 'HOSP_A' } }), {}, 'urn:oid:1.2.392.100.1', undefined, 'qualifier-local'],
    ['peer default issuer', base({}), { peerDefaultIssuer: 'HOSP_B' }, 'https://hosp-b.example/mrn', undefined, 'peer-default'],
    ['peer default issuer not in the table → default', base({}), { peerDefaultIssuer: 'NOPE' }, 'urn:oid:1.2.3.999', undefined, 'default'],
    ['issuer beats the peer default', base({ issuerOfPatientId: 'HOSP_A' }), { peerDefaultIssuer: 'HOSP_B' }, 'urn:oid:1.2.392.100.1', undefined, 'issuer'],
    ['nothing → global default', base({}), {}, 'urn:oid:1.2.3.999', undefined, 'default'],
  ] as const)('%s', (_name, state, pid, system, assigner, source) => {
    const opts = options();
    const o = { ...opts, patientIdentifier: { ...opts.patientIdentifier, ...pid } };
    expect(patientIdentifier(state, o)).toStrictEqual({ system, value: 'P1' });
    const resolved = resolvePatientIdentifier(state, o);
    expect(resolved?.assignerDisplay).toBe(assigner);
    expect(resolved?.source).toBe(source);
    const r: Json = mapImagingStudy(state, o);
    expect(r.subject.identifier.system).toBe(system);
  });

  test('no Patient ID → undefined', () => {
    expect(patientIdentifier(minimalStudy(), options())).toBeUndefined();
  });
});

describe('identity queries', () => {
  test('study identifier token', () => {
    expect(studyIdentifierQuery('1.2.3')).toBe('urn:dicom:uid|urn:oid:1.2.3');
  });
  test.each([
    ['R4', 'identifier=urn%3Adicom%3Auid%7Curn%3Aoid%3A1.2.3'],
    ['R5', 'identifier=urn%3Adicom%3Auid%7Curn%3Aoid%3A1.2.3'],
    ['STU3', 'study=urn%3Aoid%3A1.2.3'],
  ] as const)('%s conditional update query', (v, expected) => {
    expect(conditionalUpdateQuery('1.2.3', v)).toBe(expected);
  });
});
