/** Series laterality (issue 19 items 1, 2): the DICOM input and the expected FHIR fragment, per version. */
import { describe, expect, test } from 'vitest';
import type { SeriesAttributes } from '../../src/dicom/instance-record.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import type { FhirVersion } from '../../src/fhir/mapping-options.js';
import { instance, minimalStudy, options, series } from './fixtures.js';

const SCT = 'http://snomed.info/sct';
const RIGHT = { system: SCT, code: '24028007', display: 'Right' };
const LEFT = { system: SCT, code: '7771000', display: 'Left' };
const BOTH = { system: SCT, code: '51440002', display: 'Right and left' };

/** The FHIR laterality fragment of a coding per version (R5 CodeableConcept). */
function fragment(v: FhirVersion, coding: object | undefined): unknown {
  if (coding === undefined) return undefined;
  return v === 'R5' ? { coding: [coding] } : coding;
}

function lateralityOf(v: FhirVersion, attributes: Partial<SeriesAttributes>): unknown {
  const state = minimalStudy();
  state.series = [series({ seriesInstanceUid: '1.2.3.4', modality: 'CR', ...attributes }, [instance('1.2.3.4.5', '1.2.840.10008.5.1.4.1.1.1')])];
  return (mapImagingStudy(state, options({ fhirVersion: v })).series![0] as { laterality?: unknown }).laterality;
}

const VERSIONS: FhirVersion[] = ['R4', 'R5', 'STU3'];

describe('Image Laterality U is unpaired, not unilateral (item 1)', () => {
  const cases: Array<[string, Partial<SeriesAttributes>, object | undefined]> = [
    ['(0020,0062) U: no laterality', { imageLaterality: 'U' }, undefined],
    ['(0020,0060) absent, (0020,0062) R', { imageLaterality: 'R' }, RIGHT],
    ['(0020,0060) L outranks (0020,0062) U', { laterality: 'L', imageLaterality: 'U' }, LEFT],
    ['(0020,0062) B: both', { imageLaterality: 'B' }, BOTH],
  ];
  for (const v of VERSIONS) {
    test.each(cases)(`${v}: %s`, (_name, attributes, expected) => {
      expect(lateralityOf(v, attributes)).toStrictEqual(fragment(v, expected));
    });
  }
});
