import { describe, expect, test } from 'vitest';
import { ANATOMICAL_REGION_TABLE, regionsOfBodyPart } from '../../../src/fhir/mado/anatomical-regions.js';
import { bodyPartTable } from '../../../src/fhir/terminology/index.js';
import { readFsh } from './fsh.js';

describe('anatomical regions (MADO ValueSetAnatomicalRegion) from Body Part Examined', () => {
  test('the regions are exactly the value set of terminology/anatomical-region.fsh', () => {
    const codes = [...readFsh('terminology/anatomical-region.fsh').matchAll(/^\* \$sct#(\d+)/gm)].map((m) => m[1]);
    expect(Object.keys(ANATOMICAL_REGION_TABLE).sort()).toEqual(codes.sort());
  });

  test('every listed term is a Body Part Examined defined term of the bridge (PS3.16 Annex L table)', () => {
    const terms = Object.values(ANATOMICAL_REGION_TABLE).flatMap((r) => r.bodyParts);
    expect(terms.filter((t) => !(t in bodyPartTable))).toEqual([]);
  });

  test.each([
    ['CHEST', ['67734004']],
    ['head', ['774007']],
    ['CHESTABDPELVIS', ['67734004', '63337009']],
    ['KNEE', ['61685007']],
    ['LSPINE', ['1141981001']],
    ['CAROTID', ['113257007']],
    ['BREAST', ['76752008']],
    ['PHANTOM', []],
    ['NOT-A-TERM', []],
  ])('%s → %j', (term, regions) => {
    expect(regionsOfBodyPart(term).sort()).toEqual([...regions].sort());
  });
});
