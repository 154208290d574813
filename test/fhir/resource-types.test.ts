/**
 * The typed FHIR boundary (src/fhir/types/): compile-time checks (tsc -p
 * tsconfig.test.json type-checks expectTypeOf and @ts-expect-error) plus the
 * runtime values they describe.
 */
import { describe, expect, expectTypeOf, test } from 'vitest';
import type * as Medplum from '@medplum/fhirtypes';
import { mapEndpoint } from '../../src/fhir/map-endpoint.js';
import { mapImagingStudy, type ImagingStudyOf, type ImagingStudyResource, type StudyMapper } from '../../src/fhir/map-imaging-study.js';
import { keyImageResourceType, type KeyImageResource } from '../../src/fhir/map-key-images.js';
import { mapPatient } from '../../src/fhir/map-patient.js';
import { localResources, type StudyResource } from '../../src/fhir/study-resources.js';
import type { Bundle } from '../../src/fhir/types/bundle.js';
import type { BridgeResource, ResourceOf } from '../../src/fhir/types/index.js';
import type { OperationOutcome } from '../../src/fhir/types/operation-outcome.js';
import type * as R4 from '../../src/fhir/types/r4.js';
import type * as R5 from '../../src/fhir/types/r5.js';
import type { FhirResource } from '../../src/fhir/types/resource.js';
import type * as STU3 from '../../src/fhir/types/stu3.js';
import { validateR4 } from '../support/fhir-validate.js';
import { fullStudy, options } from './fixtures.js';

describe('typed resources and the JSON shape', () => {
  test('every resource the bridge writes or serves is a FhirResource as it is; unknown JSON is none of them', () => {
    expectTypeOf<BridgeResource>().toMatchTypeOf<FhirResource>();
    expectTypeOf<StudyResource>().toMatchTypeOf<FhirResource>();
    expectTypeOf<KeyImageResource>().toMatchTypeOf<FhirResource>();
    const json: FhirResource = { resourceType: 'ImagingStudy' };
    // @ts-expect-error: JSON of unknown content is not a typed ImagingStudy
    const typed: R5.ImagingStudy = json;
    void typed;
    const study: FhirResource = mapImagingStudy(fullStudy(), options({ fhirVersion: 'R5' }));
    expect(study.resourceType).toBe('ImagingStudy');
  });

  test('ResourceOf and ImagingStudyOf pick the version\'s type', () => {
    expectTypeOf<ImagingStudyOf<'R4'>>().toEqualTypeOf<R4.ImagingStudy>();
    expectTypeOf<ImagingStudyOf<'R5'>>().toEqualTypeOf<R5.ImagingStudy>();
    expectTypeOf<ImagingStudyOf<'STU3'>>().toEqualTypeOf<STU3.ImagingStudy>();
    expectTypeOf<ResourceOf<'R4', 'Basic'>>().toEqualTypeOf<R4.Basic>();
    expectTypeOf<ResourceOf<'R5', 'Basic'>>().toBeNever();
    expectTypeOf<ImagingStudyResource>().toEqualTypeOf<R4.ImagingStudy | R5.ImagingStudy | STU3.ImagingStudy>();
    expectTypeOf(mapImagingStudy).toMatchTypeOf<StudyMapper>();
  });

  test('R4 resources are Medplum\'s, both ways', () => {
    expectTypeOf<R4.ImagingStudy>().toMatchTypeOf<Medplum.ImagingStudy>();
    expectTypeOf<Medplum.ImagingStudy>().toMatchTypeOf<R4.ImagingStudy>();
    const r4: Medplum.ImagingStudy = mapImagingStudy(fullStudy(), { ...options(), fhirVersion: 'R4' });
    const patient: Medplum.Patient = mapPatient(fullStudy(), { ...options(), fhirVersion: 'R4' });
    const endpoint: Medplum.Endpoint = mapEndpoint('https://pacs.example.org/dicom-web', 'R4');
    expect([r4, patient, endpoint].flatMap((r) => validateR4(r))).toEqual([]);
  });

  test('the version-neutral Bundle and OperationOutcome fit Medplum\'s R4 ones', () => {
    const study = mapImagingStudy(fullStudy(), { ...options(), fhirVersion: 'R4' });
    const ours: Bundle<R4.ImagingStudy> = { resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ resource: study, search: { mode: 'match' } }] };
    const asMedplum: Medplum.Bundle<Medplum.ImagingStudy> = ours;
    // A server's OperationOutcome reads as ours.
    const medplumOutcome: Medplum.OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'x' }] };
    const outcome: OperationOutcome = medplumOutcome;
    expect(validateR4(asMedplum)).toEqual([]);
    expect(validateR4(outcome)).toEqual([]);
  });

  test('the key-image resource type is the version\'s', () => {
    expectTypeOf(keyImageResourceType('R5')).toEqualTypeOf<'ImagingSelection'>();
    expectTypeOf(keyImageResourceType('STU3')).toEqualTypeOf<'ImagingManifest'>();
    expectTypeOf(keyImageResourceType('R4', 'extensions')).toEqualTypeOf<'Basic' | undefined>();
    expect([keyImageResourceType('R5'), keyImageResourceType('STU3'), keyImageResourceType('R4', 'extensions')]).toEqual([
      'ImagingSelection',
      'ImagingManifest',
      'Basic',
    ]);
  });

  test('localResources is typed', () => {
    const typed = localResources(fullStudy(), options({ fhirVersion: 'R5' }), mapImagingStudy, 'https://pacs.example.org/dicom-web');
    expectTypeOf(typed).toEqualTypeOf<StudyResource[]>();
    expect(typed.map((r) => r.resourceType)).toEqual(['ImagingStudy', 'Patient', 'Endpoint']);
  });
});
