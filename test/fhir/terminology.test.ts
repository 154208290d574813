import { describe, expect, test } from 'vitest';
import { DCM_SYSTEM, SNOMED_SYSTEM } from '../../src/fhir/systems.js';
import bodyParts from '../../src/fhir/terminology/body-parts.json' with { type: 'json' };
import kosTitles from '../../src/fhir/terminology/kos-titles.json' with { type: 'json' };
import laterality from '../../src/fhir/terminology/laterality.json' with { type: 'json' };
import modalities from '../../src/fhir/terminology/modalities.json' with { type: 'json' };
import {
  BODY_PART_TABLE_SIZE,
  bodyPartTable,
  codingSchemeSystem,
  lookupBodyPart,
  lookupLaterality,
  lookupModality,
  modalityTable,
} from '../../src/fhir/terminology/index.js';

const SCT = 'http://snomed.info/sct';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

describe('Body Part Examined → SNOMED CT (PS3.16 Annex L)', () => {
  test.each([
    ['CHEST', '816094009', 'Chest'],
    ['THORAX', '816094009', 'Chest'],
    ['ABDOMEN', '818981001', 'Abdomen'],
    ['ABDOMENPELVIS', '818982008', 'Abdomen and Pelvis'],
    ['HEAD', '69536005', 'Head'],
    ['CSPINE', '122494005', 'Cervical spine'],
    ['LSPINE', '122496007', 'Lumbar spine'],
    ['BREAST', '76752008', 'Breast'],
    ['KNEE', '72696002', 'Knee'],
    ['WHOLEBODY', '38266002', 'Entire body'],
    ['HEADNECK', '774007', 'Head and Neck'],
    ['ZYGOMA', '13881006', 'Zygoma'],
  ])('%s → %s %s', (value, code, display) => {
    expect(lookupBodyPart(value)).toStrictEqual({ system: SCT, code, display });
  });

  test('the whole Annex L table is there, and only well-formed SNOMED CT ids', () => {
    expect(BODY_PART_TABLE_SIZE).toBe(317);
    for (const [term, e] of Object.entries(bodyPartTable)) {
      expect(term).toMatch(/^[0-9A-Z]{1,16}$/); // CS, 16 characters at most
      expect(e.code).toMatch(/^[1-9]\d{5,17}$/);
      expect(e.display).not.toBe('');
    }
    expect(bodyParts.system).toBe(SCT);
  });

  test.each(['KNEECAP', '', 'chest wall', 'toString', '__proto__'])('unknown %j → undefined (never invented)', (value) => {
    expect(lookupBodyPart(value)).toBeUndefined();
  });
});

describe('Laterality (CID 244)', () => {
  test.each([
    ['R', '24028007', 'Right'],
    ['L', '7771000', 'Left'],
    ['B', '51440002', 'Right and left'],
  ])('%s → %s', (value, code, display) => {
    expect(lookupLaterality(value)).toStrictEqual({ system: SCT, code, display });
  });
  test('unknown → undefined', () => expect(lookupLaterality('X')).toBeUndefined());
  test('U (unpaired) is no laterality, not 66459002 Unilateral', () => expect(lookupLaterality('U')).toBeUndefined());
});

describe('Modality (CID 33 = CID 29 + CID 32)', () => {
  test.each([
    ['CT', 'Computed Tomography'],
    ['MR', 'Magnetic Resonance'],
    ['US', 'Ultrasound'],
    ['PT', 'Positron emission tomography'],
    ['NM', 'Nuclear Medicine'],
    ['CR', 'Computed Radiography'],
    ['DX', 'Digital Radiography'],
    ['MG', 'Mammography'],
    ['XA', 'X-Ray Angiography'],
    ['RF', 'Radiofluoroscopy'],
    ['SR', 'Structured Report Document'],
    ['KO', 'Key Object Selection'],
    ['PR', 'Presentation State'],
    ['SEG', 'Segmentation'],
    ['RTSTRUCT', 'RT Structure Set'],
    ['ECG', 'Electrocardiography'],
  ])('%s → %s', (code, display) => {
    expect(lookupModality(code)).toStrictEqual({ system: DCM, code, display });
  });
  test('table codes are DICOM CS values', () => {
    for (const code of Object.keys(modalityTable)) expect(code).toMatch(/^[0-9A-Z]{2,16}$/);
  });
  test('unknown → undefined', () => expect(lookupModality('DCM')).toBeUndefined());
});

describe('Coding Scheme Designators', () => {
  test.each([
    ['SCT', SCT],
    ['LN', 'http://loinc.org'],
    ['DCM', DCM],
    ['99LOCAL', undefined],
    [undefined, undefined],
  ])('%j → %j', (designator, system) => {
    expect(codingSchemeSystem(designator)).toBe(system);
  });
});

describe('the tables name the systems of src/fhir/systems.ts', () => {
  test('body parts and laterality SNOMED CT; modalities and KOS titles DCM; the designators SCT and DCM the same', () => {
    expect([bodyParts.system, laterality.system]).toEqual([SNOMED_SYSTEM, SNOMED_SYSTEM]);
    expect([modalities.system, kosTitles.system]).toEqual([DCM_SYSTEM, DCM_SYSTEM]);
    expect([codingSchemeSystem('SCT'), codingSchemeSystem('DCM')]).toEqual([SNOMED_SYSTEM, DCM_SYSTEM]);
    expect([SNOMED_SYSTEM, DCM_SYSTEM]).toEqual([SCT, DCM]);
  });
});
