/**
 * Issue 19 items 4 and 10: ImagingStudy.location, partial DA dates (birthDate, started) and the
 * Anatomic Region Sequence as series.bodySite. DICOM attributes in, the FHIR fragment out, per version.
 */
import { describe, expect, test } from 'vitest';
import type { SeriesAttributes, StudyAttributes } from '../../src/dicom/instance-record.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import { mapPatient } from '../../src/fhir/map-patient.js';
import type { FhirVersion, MappingOptions } from '../../src/fhir/mapping-options.js';
import { instance, minimalStudy, options, series } from './fixtures.js';

type Json = Record<string, unknown>;
const VERSIONS: readonly FhirVersion[] = ['STU3', 'R4', 'R5'];

function studyWith(study: Partial<StudyAttributes>, seriesAttributes: Partial<SeriesAttributes> = {}) {
  const state = minimalStudy();
  state.study = { ...state.study, ...study };
  state.series = [series({ seriesInstanceUid: '1.2.3.4', modality: 'CT', ...seriesAttributes }, [instance('1.2.3.4.5', '1.2.840.10008.5.1.4.1.1.2')])];
  return state;
}

function mapped(version: FhirVersion, study: Partial<StudyAttributes>, s: Partial<SeriesAttributes> = {}, extra: Partial<MappingOptions> = {}): Json {
  return mapImagingStudy(studyWith(study, s), options({ fhirVersion: version, ...extra })) as unknown as Json;
}

describe('location (R4/R5): display-only Reference(Location)', () => {
  const cases: Array<[string, Partial<StudyAttributes>, Partial<MappingOptions>, Record<FhirVersion, unknown>]> = [
    ['(0040,0243) Performed Location', { performedLocation: 'CT room 3' }, {}, { STU3: undefined, R4: { display: 'CT room 3' }, R5: { display: 'CT room 3' } }],
    ['Performed Location outranks (0008,1040)', { performedLocation: 'CT room 3', institutionalDepartmentName: 'Radiology' }, {}, { STU3: undefined, R4: { display: 'CT room 3' }, R5: { display: 'CT room 3' } }],
    ['(0008,1040) Institutional Department Name alone', { institutionalDepartmentName: 'Radiology' }, {}, { STU3: undefined, R4: { display: 'Radiology' }, R5: { display: 'Radiology' } }],
    ['neither: no location', {}, {}, { STU3: undefined, R4: undefined, R5: undefined }],
    ['location: off', { performedLocation: 'CT room 3' }, { location: 'off' }, { STU3: undefined, R4: undefined, R5: undefined }],
    ['location: display (explicit)', { institutionalDepartmentName: 'Radiology' }, { location: 'display' }, { STU3: undefined, R4: { display: 'Radiology' }, R5: { display: 'Radiology' } }],
  ];
  for (const v of VERSIONS) {
    test.each(cases)(`${v}: %s`, (_name, study, extra, expected) => {
      expect(mapped(v, study, {}, extra).location).toStrictEqual(expected[v]);
    });
  }

  test('R4 writes location between procedureCode and reasonCode (specification order)', () => {
    const keys = Object.keys(mapped('R4', { performedLocation: 'X', procedureCodes: [{ codeMeaning: 'p' }], reasonForRequestedProcedure: 'r' }));
    expect(keys.slice(keys.indexOf('procedureCode'), keys.indexOf('procedureCode') + 3)).toEqual(['procedureCode', 'location', 'reasonCode']);
  });
});

describe('partial DA dates', () => {
  const birth: Array<[string, string, string | undefined]> = [
    ['YYYY', '1970', '1970'],
    ['YYYYMM', '197003', '1970-03'],
    ['YYYYMMDD', '19700315', '1970-03-15'],
    ['month 13 is malformed', '197013', undefined],
    ['YYY is malformed', '197', undefined],
  ];
  for (const v of VERSIONS) {
    test.each(birth)(`${v} Patient.birthDate from %s`, (_name, da, expected) => {
      const state = minimalStudy();
      state.patient = { patientId: 'P1', patientBirthDate: da };
      expect((mapPatient(state, options({ fhirVersion: v })) as unknown as Json).birthDate).toBe(expected);
    });
  }

  const started: Array<[string, Partial<StudyAttributes>, string | undefined, string[]]> = [
    ['YYYY', { studyDate: '2024' }, '2024', []],
    ['YYYYMM', { studyDate: '202403' }, '2024-03', []],
    ['YYYYMM with a time: the time is dropped (a dateTime with a time needs the full date)', { studyDate: '202403', studyTime: '101500' }, '2024-03', ['StudyTime with a partial StudyDate=101500']],
    ['full date and time unchanged', { studyDate: '20240305', studyTime: '1015', timezoneOffsetFromUtc: '+0100' }, '2024-03-05T10:15:00+01:00', []],
  ];
  for (const v of VERSIONS) {
    test.each(started)(`${v} ImagingStudy.started from %s`, (_name, study, expected, dropped) => {
      const seen: string[] = [];
      const r = mapImagingStudy(studyWith(study), options({ fhirVersion: v, onDropped: (w, value) => seen.push(`${w}=${value}`) })) as unknown as Json;
      expect(r.started).toBe(expected);
      expect(seen).toEqual(dropped);
    });
  }
});

describe('(0008,2218) Anatomic Region Sequence as series.bodySite', () => {
  const knee = { codeValue: '72696002', codingSchemeDesignator: 'SCT', codeMeaning: 'Knee' };
  const kneeCoding = { system: 'http://snomed.info/sct', code: '72696002', display: 'Knee' };
  const chestCoding = { system: 'http://snomed.info/sct', code: '816094009', display: 'Chest' };
  const cases: Array<[string, Partial<SeriesAttributes>, Record<FhirVersion, unknown>]> = [
    ['SCT region → SNOMED CT coding', { anatomicRegion: knee }, { STU3: kneeCoding, R4: kneeCoding, R5: { concept: { coding: [kneeCoding] } } }],
    ['region outranks (0018,0015) Body Part Examined', { anatomicRegion: knee, bodyPartExamined: 'CHEST' }, { STU3: kneeCoding, R4: kneeCoding, R5: { concept: { coding: [kneeCoding] } } }],
    ['no region: Body Part Examined as before', { bodyPartExamined: 'CHEST' }, { STU3: chestCoding, R4: chestCoding, R5: { concept: { coding: [chestCoding] } } }],
    [
      'region in a local scheme: Body Part Examined wins (no invented system)',
      { anatomicRegion: { codeValue: 'K1', codingSchemeDesignator: '99LOCAL', codeMeaning: 'Knee local' }, bodyPartExamined: 'CHEST' },
      { STU3: chestCoding, R4: chestCoding, R5: { concept: { coding: [chestCoding] } } },
    ],
    [
      'region in a local scheme alone: its meaning as text',
      { anatomicRegion: { codeValue: 'K1', codingSchemeDesignator: '99LOCAL', codeMeaning: 'Knee local' } },
      { STU3: { display: 'Knee local' }, R4: { display: 'Knee local' }, R5: { concept: { text: 'Knee local' } } },
    ],
    [
      'SRT region keeps its own system',
      { anatomicRegion: { codeValue: 'T-D4000', codingSchemeDesignator: 'SRT', codeMeaning: 'Abdomen' } },
      {
        STU3: { system: 'http://snomed.info/srt', code: 'T-D4000', display: 'Abdomen' },
        R4: { system: 'http://snomed.info/srt', code: 'T-D4000', display: 'Abdomen' },
        R5: { concept: { coding: [{ system: 'http://snomed.info/srt', code: 'T-D4000', display: 'Abdomen' }] } },
      },
    ],
    [
      'region without Code Meaning: coding without display',
      { anatomicRegion: { codeValue: '72696002', codingSchemeDesignator: 'SCT' } },
      {
        STU3: { system: 'http://snomed.info/sct', code: '72696002' },
        R4: { system: 'http://snomed.info/sct', code: '72696002' },
        R5: { concept: { coding: [{ system: 'http://snomed.info/sct', code: '72696002' }] } },
      },
    ],
  ];
  for (const v of VERSIONS) {
    test.each(cases)(`${v}: %s`, (_name, s, expected) => {
      const r = mapped(v, {}, s) as { series: Json[] };
      expect(r.series[0]!.bodySite).toStrictEqual(expected[v]);
    });
  }
});
