/** series.instance.title (issue 19 item 8): the instance attributes in, the title out, in every version. */
import { describe, expect, test } from 'vitest';
import type { InstanceAttributes } from '../../src/dicom/instance-record.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import { instance, minimalStudy, options, series } from './fixtures.js';

const RTSTRUCT = '1.2.840.10008.5.1.4.1.1.481.3';
const SEG = '1.2.840.10008.5.1.4.1.1.66.4';
const SR = '1.2.840.10008.5.1.4.1.1.88.33';

const cases: Array<[string, string, string, Partial<InstanceAttributes>, string | undefined]> = [
  ['RT Structure Set: (3006,0002) Structure Set Label', 'RTSTRUCT', RTSTRUCT, { structureSetLabel: 'PLAN A' }, 'PLAN A'],
  ['SEG: (0070,0080) Content Label', 'SEG', SEG, { contentLabel: 'TUMOR' }, 'TUMOR'],
  ['SR: (0040,A043) Concept Name', 'SR', SR, { conceptNameCode: { codeValue: '18748-4', codingSchemeDesignator: 'LN', codeMeaning: 'Diagnostic imaging report' } }, 'Diagnostic imaging report'],
  ['RT Structure Set without a label: none', 'RTSTRUCT', RTSTRUCT, {}, undefined],
];

describe('instance title', () => {
  for (const v of ['R4', 'R5', 'STU3'] as const) {
    test.each(cases)(`${v}: %s`, (_name, modality, sopClass, attributes, title) => {
      const state = minimalStudy();
      state.series = [series({ seriesInstanceUid: '1.2.3.4', modality }, [instance('1.2.3.4.5', sopClass, attributes)])];
      const r = mapImagingStudy(state, options({ fhirVersion: v })) as unknown as { series: Array<{ instance: Array<{ title?: string }> }> };
      expect(r.series[0]!.instance[0]!.title).toBe(title);
    });
  }
});
