import { describe, expect, test } from 'vitest';
import { mapEndpoint } from '../../src/fhir/map-endpoint.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import { mapPatient } from '../../src/fhir/map-patient.js';
import type { StudyState } from '../../src/dicom/study-state.js';
import { assertStu3ImagingStudyShape, validateR4, validateR5 } from '../support/fhir-validate.js';
import { fullStudy, minimalStudy, options, withPatient, withStudy } from './fixtures.js';

const studies: Array<[string, () => StudyState, Parameters<typeof options>[0]?]> = [
  ['fully populated', fullStudy],
  ['fully populated, resolved references', fullStudy, { patientReference: 'Patient/123', endpointReference: 'urn:uuid:8f14e45f-ceea-467a-9575-6a7e1f1c2b3d' }],
  ['minimal, no patient at all', minimalStudy],
  ['minimal, name only', () => withPatient(minimalStudy(), { patientName: { ideographic: '山田^太郎' } })],
  ['unknown codes and a study without modality', () => {
    const s = withStudy(minimalStudy(), { accessionNumber: 'A1', issuerOfAccessionNumber: { localNamespaceEntityId: 'RIS' }, procedureCodes: [{ codeValue: 'X', codingSchemeDesignator: '99X' }] });
    s.series[0]!.attributes = { seriesInstanceUid: '1.2.3.4', bodyPartExamined: 'KNEECAP', laterality: 'Q' };
    return s;
  }],
];

describe('generated resources validate', () => {
  test.each(studies)('R4 ImagingStudy (%s): JSON schema + Medplum validator', (_n, make, o) => {
    const r = mapImagingStudy(make(), options({ ...o, fhirVersion: 'R4' }));
    expect(validateR4(r)).toEqual([]);
  });

  test.each(studies)('R5 ImagingStudy (%s): JSON schema', (_n, make, o) => {
    const r = mapImagingStudy(make(), options({ ...o, fhirVersion: 'R5' }));
    expect(validateR5(r)).toEqual([]);
  });

  test.each(studies)('STU3 ImagingStudy (%s): STU3 element names only', (_n, make, o) => {
    const r = mapImagingStudy(make(), options({ ...o, fhirVersion: 'STU3' }));
    expect(assertStu3ImagingStudyShape(r)).toEqual([]);
  });

  test.each([['R4'], ['R5']] as const)('%s Patient and Endpoint', (v) => {
    const validate = v === 'R4' ? validateR4 : validateR5;
    expect(validate(mapPatient(fullStudy(), options({ fhirVersion: v })))).toEqual([]);
    expect(validate(mapPatient(minimalStudy(), options({ fhirVersion: v })))).toEqual([]);
    expect(validate(mapEndpoint('https://pacs.example.org/dicom-web/', v))).toEqual([]);
  });
});

describe('the validators catch errors (they are not vacuous)', () => {
  test('R4: unknown element, bad status, missing subject', () => {
    const bad = { ...mapImagingStudy(minimalStudy(), options()), status: 'done', interpretr: [] } as Record<string, unknown>;
    delete bad.subject;
    const errors = validateR4(bad);
    expect(errors.some((e) => e.includes('interpretr'))).toBe(true);
    expect(errors.some((e) => e.includes('status') || e.includes('enum'))).toBe(true);
    expect(errors.some((e) => e.includes('subject'))).toBe(true);
    // Both validators ran: the schema and Medplum's StructureDefinition check.
    expect(errors.some((e) => e.startsWith('R4 schema'))).toBe(true);
    expect(errors.some((e) => e.startsWith('R4 medplum'))).toBe(true);
  });

  test('R5: the R4 element interpreter is rejected; R4 modality Coding is not a CodeableConcept', () => {
    const r4 = mapImagingStudy(fullStudy(), options({ fhirVersion: 'R4' }));
    const errors = validateR5(r4);
    expect(errors.some((e) => e.includes('interpreter'))).toBe(true);
    expect(errors.some((e) => e.includes('reasonCode'))).toBe(true);
  });

  test('STU3: R4 names and plain UIDs are rejected', () => {
    const r4 = mapImagingStudy(fullStudy(), options({ fhirVersion: 'R4' }));
    const errors = assertStu3ImagingStudyShape(r4);
    expect(errors).toContain("ImagingStudy: element 'subject' is not in STU3");
    expect(errors).toContain("ImagingStudy: element 'status' is not in STU3");
    expect(errors).toContain('ImagingStudy.uid is required in STU3');
    const stu3 = mapImagingStudy(fullStudy(), options({ fhirVersion: 'STU3' })) as unknown as { series: Array<{ uid: string }> };
    stu3.series[0]!.uid = '1.2.3';
    expect(assertStu3ImagingStudyShape(stu3)).toEqual(["ImagingStudy.series[0].uid '1.2.3' is not urn:oid:"]);
  });
});
