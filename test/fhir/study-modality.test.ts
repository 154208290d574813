/** The study-level modality list (issue 19 item 3): series modalities in, the list per version out. */
import { describe, expect, test } from 'vitest';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import type { FhirVersion } from '../../src/fhir/mapping-options.js';
import { instance, minimalStudy, options, series } from './fixtures.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const CT = { system: DCM, code: 'CT', display: 'Computed Tomography' };
const MR = { system: DCM, code: 'MR', display: 'Magnetic Resonance' };
const ECG = { system: DCM, code: 'ECG', display: 'Electrocardiography' };
const SR = { system: DCM, code: 'SR', display: 'Structured Report Document' };
const KO = { system: DCM, code: 'KO', display: 'Key Object Selection' };
const PR = { system: DCM, code: 'PR', display: 'Presentation State' };
const SEG = { system: DCM, code: 'SEG', display: 'Segmentation' };
const RTSTRUCT = { system: DCM, code: 'RTSTRUCT', display: 'RT Structure Set' };

function studyOf(modalities: string[]) {
  const state = minimalStudy();
  state.series = modalities.map((m, i) =>
    series({ seriesInstanceUid: `1.2.3.${i + 1}`, seriesNumber: i + 1, modality: m }, [instance(`1.2.3.${i + 1}.1`, '1.2.840.10008.5.1.4.1.1.7')]),
  );
  return state;
}

function listOf(v: FhirVersion, modalities: string[]): unknown {
  const r = mapImagingStudy(studyOf(modalities), options({ fhirVersion: v })) as Record<string, unknown>;
  return r[v === 'STU3' ? 'modalityList' : 'modality'];
}

const cases: Array<[string, string[], object[] | undefined, object[] | undefined]> = [
  // name, series modalities, R4/STU3 list (CID 29 acquisition only), R5 list (all distinct, CID 33)
  ['CT with SR, KO, PR, SEG, RTSTRUCT lists CT', ['CT', 'SR', 'KO', 'PR', 'SEG', 'RTSTRUCT'], [CT], [CT, SR, KO, PR, SEG, RTSTRUCT]],
  ['SR only lists none', ['SR'], undefined, [SR]],
  ['CT and MR both', ['MR', 'CT', 'SR'], [MR, CT], [MR, CT, SR]],
  ['waveform acquisition (CID 34, part of CID 29) is acquisition', ['ECG', 'SR'], [ECG], [ECG, SR]],
  ['unknown modality is not known to be non-acquisition: kept', ['ZZ', 'KO'], [{ display: 'ZZ' }], [{ text: 'ZZ' }, KO]],
];

describe('study modality list', () => {
  for (const v of ['R4', 'STU3'] as const) {
    test.each(cases)(`${v}: %s`, (_name, modalities, acquisition) => {
      expect(listOf(v, modalities)).toStrictEqual(acquisition);
    });
  }
  test.each(cases)('R5: %s (all series modalities)', (_name, modalities, _acquisition, all) => {
    expect(listOf('R5', modalities)).toStrictEqual(all?.map((c) => ('code' in c ? { coding: [c] } : c)));
  });
});
