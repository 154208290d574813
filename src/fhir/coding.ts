/** DICOM code sequence items and terminology look-ups → FHIR Coding / CodeableConcept. */
import type { CodedEntry, HierarchicDesignator } from '../dicom/attribute-values.js';
import { codingSchemeSystem } from './terminology/index.js';
import { DATA_ABSENT_REASON_URL, OID_PREFIX, oidUri } from './systems.js';
import type { CodeableConcept, Coding, Extension } from './types/common.js';

const OID_RE = /^[0-2](\.(0|[1-9]\d*))+$/;
const ABSOLUTE_URI_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

export function isOid(value: string): boolean {
  return OID_RE.test(value) && value.length <= 64;
}

export function isAbsoluteUri(value: string): boolean {
  return ABSOLUTE_URI_RE.test(value);
}

/**
 * A code sequence item → Coding, only when its Coding Scheme Designator maps
 * to a known FHIR system (coding-schemes.json). Otherwise undefined: a local
 * designator never becomes a `system`, the meaning survives as text.
 */
export function codedEntryToCoding(entry: CodedEntry): Coding | undefined {
  const system = codingSchemeSystem(entry.codingSchemeDesignator);
  if (!system || !entry.codeValue) return undefined;
  const coding: Coding = { system };
  if (entry.codingSchemeVersion) coding.version = entry.codingSchemeVersion;
  coding.code = entry.codeValue;
  if (entry.codeMeaning) coding.display = entry.codeMeaning;
  return coding;
}

/** One code sequence item → CodeableConcept (coding when the scheme is known, text = meaning). */
export function codedEntryToConcept(entry: CodedEntry): CodeableConcept | undefined {
  const coding = codedEntryToCoding(entry);
  const text = entry.codeMeaning ?? (coding ? undefined : entry.codeValue);
  if (!coding && !text) return undefined;
  const cc: CodeableConcept = {};
  if (coding) cc.coding = [coding];
  if (text) cc.text = text;
  return cc;
}

/**
 * Several code items and/or a free text → one CodeableConcept (used for the
 * reason: (0040,100A) codes + (0040,1002) text).
 */
export function conceptFrom(entries: readonly CodedEntry[] | undefined, text: string | undefined): CodeableConcept | undefined {
  const codings = (entries ?? []).map(codedEntryToCoding).filter((c): c is Coding => c !== undefined);
  const meanings = (entries ?? []).map((e) => e.codeMeaning).filter((m): m is string => !!m);
  const t = text ?? (meanings.length ? meanings.join('; ') : undefined);
  if (!codings.length && !t) return undefined;
  const cc: CodeableConcept = {};
  if (codings.length) cc.coding = codings;
  if (t) cc.text = t;
  return cc;
}

/**
 * A Hierarchic Designator's universal entity id as an identifier system:
 * ISO → `urn:oid:<oid>` (when it is an OID), URI/URL → itself when absolute.
 */
export function universalEntityIdSystem(d: HierarchicDesignator | undefined): string | undefined {
  const id = d?.universalEntityId?.trim();
  if (!id) return undefined;
  const type = d?.universalEntityIdType?.trim().toUpperCase();
  if (type === 'ISO' || (type === undefined && isOid(id))) {
    if (id.startsWith(OID_PREFIX) && isOid(id.slice(OID_PREFIX.length))) return id;
    return isOid(id) ? oidUri(id) : undefined;
  }
  if ((type === 'URI' || type === 'URL') && isAbsoluteUri(id)) return id;
  return undefined;
}

/** The data-absent-reason extension `unknown` (for 1..1 elements with no data). */
export function absentExtension(): Extension[] {
  return [{ url: DATA_ABSENT_REASON_URL, valueCode: 'unknown' }];
}

/** Coding carrying only the data-absent-reason extension. */
export function absentCoding(): Coding {
  return { extension: absentExtension() };
}
