/**
 * Anatomical regions (MADO ValueSetAnatomicalRegion) of a study, from the
 * Body Part Examined of its series (anatomical-regions.json). Feeds
 * ImagingStudy.extension[anatomical-region] and the DocumentReference
 * bodysite extension, which the `anatomical-region` search finds. Pure.
 */
import table from './anatomical-regions.json' with { type: 'json' };
import type { StudyState } from '../../dicom/study-state.js';
import type { Coding } from '../types/r4.js';

const regions: Readonly<Record<string, { display: string; bodyParts: readonly string[] }>> = table.regions;

const byBodyPart = new Map<string, string[]>();
for (const [code, region] of Object.entries(regions)) {
  for (const part of region.bodyParts) byBodyPart.set(part, [...(byBodyPart.get(part) ?? []), code]);
}

/** The region codes (SNOMED CT) of one Body Part Examined term; none when it fits no region. */
export function regionsOfBodyPart(bodyPart: string): string[] {
  return byBodyPart.get(bodyPart.trim().toUpperCase()) ?? [];
}

/** The distinct regions of the study's series, in table order. */
export function anatomicalRegions(state: StudyState): Coding[] {
  const found = new Set(state.series.flatMap((s) => (s.attributes.bodyPartExamined ? regionsOfBodyPart(s.attributes.bodyPartExamined) : [])));
  return Object.entries(regions)
    .filter(([code]) => found.has(code))
    .map(([code, r]) => ({ system: table.system, code, display: r.display }));
}

export const ANATOMICAL_REGION_TABLE = regions;
export const ANATOMICAL_REGION_SYSTEM = table.system;
