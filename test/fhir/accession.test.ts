/** Where the accession goes (issue 19 item 6): per version and FHIR_BASED_ON, the DICOM input and the FHIR fragment. */
import { describe, expect, test } from 'vitest';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import type { FhirVersion, MappingOptions } from '../../src/fhir/mapping-options.js';
import { minimalStudy, options, withStudy } from './fixtures.js';

const ACSN = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] };
const ACSN_STU3 = { coding: [{ system: 'http://hl7.org/fhir/v2/0203', code: 'ACSN' }] };
const acc = (type: object) => ({ type, system: 'urn:oid:1.2.3.77', value: 'ACC-9' });
const STUDY_UID_ID = { system: 'urn:dicom:uid', value: 'urn:oid:1.2.3' };

// (0008,0050) ACC-9, (0008,0051) Universal Entity ID 1.2.3.77 (ISO).
const state = withStudy(minimalStudy(), { accessionNumber: 'ACC-9', issuerOfAccessionNumber: { universalEntityId: '1.2.3.77', universalEntityIdType: 'ISO' } });

const cases: Array<[FhirVersion, MappingOptions['basedOn'], Record<string, unknown>]> = [
  ['R5', 'accession', { identifier: [STUDY_UID_ID], basedOn: [{ type: 'ServiceRequest', identifier: acc(ACSN) }] }],
  ['R5', 'off', { identifier: [STUDY_UID_ID, acc(ACSN)], basedOn: undefined }],
  ['R4', 'accession', { identifier: [STUDY_UID_ID, acc(ACSN)], basedOn: [{ type: 'ServiceRequest', identifier: acc(ACSN) }] }],
  ['R4', 'off', { identifier: [STUDY_UID_ID, acc(ACSN)], basedOn: undefined }],
  ['STU3', 'accession', { accession: acc(ACSN_STU3), basedOn: [{ identifier: acc(ACSN_STU3) }] }],
  ['STU3', 'off', { accession: acc(ACSN_STU3), basedOn: undefined }],
];

describe('accession', () => {
  test.each(cases)('%s, basedOn %s', (v, basedOn, expected) => {
    const r = mapImagingStudy(state, options({ fhirVersion: v, basedOn })) as unknown as Record<string, unknown>;
    for (const [element, value] of Object.entries(expected)) expect(r[element], element).toStrictEqual(value);
  });
});
