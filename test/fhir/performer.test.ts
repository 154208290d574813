/** series.performer.function (issue 19 item 5): the DICOM names in, the FHIR performers out, per version. */
import { describe, expect, test } from 'vitest';
import type { SeriesAttributes } from '../../src/dicom/instance-record.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import type { FhirVersion } from '../../src/fhir/mapping-options.js';
import { instance, minimalStudy, options, series } from './fixtures.js';

const PART = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const PRF = { coding: [{ system: PART, code: 'PRF', display: 'performer' }] };
const SPRF = { coding: [{ system: PART, code: 'SPRF', display: 'secondary performer' }] };

function performersOf(v: FhirVersion, attributes: Partial<SeriesAttributes>): unknown {
  const state = minimalStudy();
  state.series = [series({ seriesInstanceUid: '1.2.3.4', modality: 'CT', ...attributes }, [instance('1.2.3.4.5', '1.2.840.10008.5.1.4.1.1.2')])];
  return (mapImagingStudy(state, options({ fhirVersion: v })).series![0] as { performer?: unknown }).performer;
}

const cases: Array<[string, Partial<SeriesAttributes>, unknown, unknown]> = [
  // name, (0008,1050) / (0008,1070), R4 and R5 performer, STU3 performer
  ['performing physician only', { performingPhysicianName: [{ alphabetic: 'Roe^Ann' }] }, [{ function: PRF, actor: { display: 'Ann Roe' } }], [{ display: 'Ann Roe' }]],
  ['operator only', { operatorsName: [{ alphabetic: 'Poe^Bo' }] }, [{ function: SPRF, actor: { display: 'Bo Poe' } }], [{ display: 'Bo Poe' }]],
  [
    'both, told apart; the same person in both is listed under each function',
    { performingPhysicianName: [{ alphabetic: 'Roe^Ann' }], operatorsName: [{ alphabetic: 'Poe^Bo' }, { alphabetic: 'Roe^Ann' }] },
    [{ function: PRF, actor: { display: 'Ann Roe' } }, { function: SPRF, actor: { display: 'Bo Poe' } }, { function: SPRF, actor: { display: 'Ann Roe' } }],
    [{ display: 'Ann Roe' }, { display: 'Bo Poe' }],
  ],
  ['none', {}, undefined, undefined],
];

describe('series.performer', () => {
  for (const v of ['R4', 'R5'] as const) {
    test.each(cases)(`${v}: %s`, (_name, attributes, expected) => expect(performersOf(v, attributes)).toStrictEqual(expected));
  }
  test.each(cases)('STU3 (no function): %s', (_name, attributes, _r4, expected) => expect(performersOf('STU3', attributes)).toStrictEqual(expected));
});
