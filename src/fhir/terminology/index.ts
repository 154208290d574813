/**
 * Typed access to the terminology tables (JSON data files next to this one).
 * Lookups never invent codes: unknown values return undefined and the caller
 * keeps the DICOM text.
 */
import bodyParts from './body-parts.json' with { type: 'json' };
import codingSchemes from './coding-schemes.json' with { type: 'json' };
import laterality from './laterality.json' with { type: 'json' };
import modalities from './modalities.json' with { type: 'json' };
import { DCM_SYSTEM, SNOMED_SYSTEM } from '../systems.js';

export interface TermCode {
  system: string;
  code: string;
  display: string;
}

const bodyPartEntries: Readonly<Record<string, { code: string; display: string }>> = bodyParts.entries;
const lateralityEntries: Readonly<Record<string, { code: string; display: string }>> = laterality.entries;
const modalityEntries: Readonly<Record<string, { display: string; cid: string }>> = modalities.entries;
const schemeEntries: Readonly<Record<string, string>> = codingSchemes.entries;

function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/** Body Part Examined (0018,0015) → SNOMED CT by PS3.16 Annex L. */
export function lookupBodyPart(value: string): TermCode | undefined {
  const e = own(bodyPartEntries, value.trim().toUpperCase());
  return e ? { system: SNOMED_SYSTEM, code: e.code, display: e.display } : undefined;
}

/** Laterality / Image Laterality → SNOMED CT by CID 244. */
export function lookupLaterality(value: string): TermCode | undefined {
  const e = own(lateralityEntries, value.trim().toUpperCase());
  return e ? { system: SNOMED_SYSTEM, code: e.code, display: e.display } : undefined;
}

/** Modality (0008,0060) → DCM code by CID 33. */
export function lookupModality(value: string): TermCode | undefined {
  const code = value.trim().toUpperCase();
  const e = own(modalityEntries, code);
  return e ? { system: DCM_SYSTEM, code, display: e.display } : undefined;
}

/**
 * Whether a Modality is one of CID 32 Non-Acquisition Modality (SR, KO, PR, SEG, RTSTRUCT, ...). A value
 * outside the table is not known to be one: it counts as acquired.
 */
export function isNonAcquisitionModality(value: string): boolean {
  return own(modalityEntries, value.trim().toUpperCase())?.cid === '32';
}

/** Coding Scheme Designator → FHIR system URI (PS3.16 Table 8-1 subset). */
export function codingSchemeSystem(designator: string | undefined): string | undefined {
  if (designator === undefined) return undefined;
  return own(schemeEntries, designator.trim());
}

export const BODY_PART_TABLE_SIZE = Object.keys(bodyPartEntries).length;
export const bodyPartTable: Readonly<Record<string, { code: string; display: string }>> = bodyPartEntries;
export const modalityTable: Readonly<Record<string, { display: string; cid: string }>> = modalityEntries;
