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

/** A series of images with these Image Lateralities, in this order of arrival. */
function seriesOf(v: FhirVersion, laterality: string | undefined, images: Array<string | undefined>): unknown {
  const state = minimalStudy();
  const instances = images.map((l, n) => instance(`1.2.3.4.${n + 1}`, '1.2.840.10008.5.1.4.1.1.1.2', l === undefined ? {} : { imageLaterality: l }));
  // The series attributes are those of the latest image (latest wins), as the stores keep them.
  const attributes = { seriesInstanceUid: '1.2.3.4', modality: 'MG', ...(laterality ? { laterality } : {}), ...(images.at(-1) ? { imageLaterality: images.at(-1)! } : {}) };
  state.series = [series(attributes, instances)];
  return (mapImagingStudy(state, options({ fhirVersion: v })).series![0] as { laterality?: unknown }).laterality;
}

describe('series laterality from all images, order-independent (item 2)', () => {
  const cases: Array<[string, string | undefined, Array<string | undefined>, object | undefined]> = [
    ['mammography R, L, R, L: both', undefined, ['R', 'L', 'R', 'L'], BOTH],
    ['all R: right', undefined, ['R', 'R', 'R'], RIGHT],
    ['all L with one U: left', undefined, ['L', 'U', 'L'], LEFT],
    ['R and B: both', undefined, ['R', 'B'], BOTH],
    ['none known: none', undefined, ['U', undefined], undefined],
    ['(0020,0060) R outranks images R, L', 'R', ['R', 'L'], RIGHT],
  ];
  for (const v of VERSIONS) {
    test.each(cases)(`${v}: %s, in both orders`, (_name, laterality, images, expected) => {
      expect(seriesOf(v, laterality, images)).toStrictEqual(fragment(v, expected));
      expect(seriesOf(v, laterality, [...images].reverse())).toStrictEqual(fragment(v, expected));
    });
  }

  test('re-sending one R image of an R, L series does not flip it', () => {
    const state = minimalStudy();
    state.series = [
      series({ seriesInstanceUid: '1.2.3.4', modality: 'MG', imageLaterality: 'R' }, [
        instance('1.2.3.4.1', '1.2.840.10008.5.1.4.1.1.1.2', { imageLaterality: 'R' }),
        instance('1.2.3.4.2', '1.2.840.10008.5.1.4.1.1.1.2', { imageLaterality: 'L' }),
        instance('1.2.3.4.1', '1.2.840.10008.5.1.4.1.1.1.2', { imageLaterality: 'R' }),
      ]),
    ];
    expect(mapImagingStudy(state, options({ fhirVersion: 'R4' })).series![0]!.laterality).toStrictEqual(BOTH);
  });
});
