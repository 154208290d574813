/**
 * Compile-time checks (tsc -p tsconfig.test.json, and vitest's typecheck of
 * expectTypeOf): the per-version overloads return the per-version types.
 * @smile-cdr/fhirts 2.4.1 has no STU3 ImagingStudy/Endpoint class, so STU3 is
 * checked against our own STU3 types (src/fhir/types/stu3.ts).
 */
import { describe, expect, expectTypeOf, test } from 'vitest';
import type { ImagingStudy as R4ImagingStudy } from '@medplum/fhirtypes';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import type * as R5 from '../../src/fhir/types/r5.js';
import type * as STU3 from '../../src/fhir/types/stu3.js';
import { assertStu3ImagingStudyShape } from '../support/fhir-validate.js';
import { fullStudy, options } from './fixtures.js';

describe('typed per version', () => {
  test('STU3 output is an STU3 ImagingStudy', () => {
    const stu3: STU3.ImagingStudy = mapImagingStudy(fullStudy(), { ...options(), fhirVersion: 'STU3' });
    expectTypeOf(stu3.uid).toEqualTypeOf<string>();
    expectTypeOf(stu3.series).toEqualTypeOf<STU3.ImagingStudySeries[] | undefined>();
    // @ts-expect-error: STU3 has no `subject`
    void stu3.subject;
    expect(assertStu3ImagingStudyShape(stu3)).toEqual([]);
  });

  test('R4 and R5 outputs are their versions\' types', () => {
    const r4: R4ImagingStudy = mapImagingStudy(fullStudy(), { ...options(), fhirVersion: 'R4' });
    const r5: R5.ImagingStudy = mapImagingStudy(fullStudy(), { ...options(), fhirVersion: 'R5' });
    expectTypeOf(r5.modality).toEqualTypeOf<R5.CodeableConcept[] | undefined>();
    // @ts-expect-error: R5 has no `interpreter`
    void r5.interpreter;
    expect(r4.status).toBe('available');
    expect(r5.status).toBe('available');
  });

  test('the STU3 element list matches the STU3 type keys it declares', () => {
    type Keys = keyof STU3.ImagingStudy;
    const keys: Record<Exclude<Keys, 'resourceType' | 'id' | 'extension'>, true> = {
      uid: true, accession: true, identifier: true, availability: true, modalityList: true, patient: true, context: true,
      started: true, basedOn: true, referrer: true, interpreter: true, endpoint: true, numberOfSeries: true,
      numberOfInstances: true, procedureReference: true, procedureCode: true, reason: true, description: true, series: true,
    };
    expect(Object.keys(keys).length).toBe(19);
  });
});
