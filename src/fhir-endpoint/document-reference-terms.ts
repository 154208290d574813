/**
 * The MADO manifests on the built-in FHIR endpoint (docs/mado.md): the
 * index terms of a MadoFhirDocumentReference (the MHD envelope), which the
 * DocumentReference search parameters (document-reference-parameters.ts)
 * look up. Pure.
 *
 * | param              | DocumentReference                                                  |
 * |--------------------|--------------------------------------------------------------------|
 * | identifier         | masterIdentifier, identifier[]                                     |
 * | study-instance-uid | context.related.identifier with type DCM 110180 (system, value; and the UID without urn:oid:) |
 * | accession-number   | context.related.identifier with type DCM 121022                     |
 * | modality           | extension DocumentReference.modality (R5 xver), its codings         |
 * | anatomical-region  | extension DocumentReference.bodySite.concept (R5 xver), its codings |
 * | patient            | subject (`Patient/<id>`, or a logical reference's identifier)       |
 * | date               | date (range)                                                        |
 * | status             | status                                                              |
 */
import { XVER_DOCUMENT_REFERENCE } from '../fhir/mado/canonicals.js';
import { patientId, stripOid } from '../fhir/resource-ids.js';
import type { FhirResource } from './resource-index.js';

type Json = Record<string, unknown>;
/** An index term (index-terms.ts IndexTerm; not imported: index-terms.ts imports this file). */
interface Term {
  param: string;
  system?: string;
  code?: string;
  low?: number;
  high?: number;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const DOCUMENT_REFERENCE_STATUS = 'http://hl7.org/fhir/document-reference-status';
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : v && typeof v === 'object' ? [v as Json] : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const hasType = (identifier: Json | undefined, code: string): boolean =>
  arr((identifier?.type as Json | undefined)?.coding).some((c) => c.system === DCM && c.code === code);

/** The index terms of a DocumentReference; `date` gives the [low, high) range of a dateTime. */
export function documentReferenceTerms(r: FhirResource, date: (value: string) => { low: number; high: number } | undefined): Term[] {
  const list: Term[] = [];
  const token = (param: string, system: string | undefined, code: string | undefined) => {
    if (code !== undefined) list.push(system === undefined ? { param, code } : { param, system, code });
  };
  for (const i of [...arr(r.masterIdentifier), ...arr(r.identifier)]) token('identifier', str(i.system), str(i.value));
  const context = r.context as Json | undefined;
  for (const related of arr(context?.related)) {
    const identifier = related.identifier as Json | undefined;
    const value = str(identifier?.value);
    if (hasType(identifier, '110180') && value) {
      token('study-instance-uid', str(identifier?.system), value);
      token('study-instance-uid', undefined, stripOid(value));
    }
    if (hasType(identifier, '121022') && value) {
      token('accession-number', str(identifier?.system), value);
      if (str(identifier?.system)) token('accession-number', undefined, value);
    }
  }
  for (const ext of arr(r.extension)) {
    if (ext.url === XVER_DOCUMENT_REFERENCE.modality) for (const c of arr((ext.valueCodeableConcept as Json | undefined)?.coding)) token('modality', str(c.system), str(c.code));
    if (ext.url === XVER_DOCUMENT_REFERENCE.bodySite) {
      for (const concept of arr(ext.extension).filter((e) => e.url === 'concept')) {
        for (const c of arr((concept.valueCodeableConcept as Json | undefined)?.coding)) token('anatomical-region', str(c.system), str(c.code));
      }
    }
  }
  const subject = r.subject as Json | undefined;
  const ref = str(subject?.reference);
  if (ref && /^Patient\/[^/]+$/.test(ref)) token('patient', undefined, ref);
  const ident = subject?.identifier as Json | undefined;
  if (ident) {
    token('patient:identifier', str(ident.system), str(ident.value));
    if (!ref && str(ident.value)) token('patient', undefined, `Patient/${patientId({ system: str(ident.system), value: str(ident.value)! })}`);
  }
  const when = str(r.date) && date(r.date as string);
  if (when) list.push({ param: 'date', low: when.low, high: when.high });
  token('status', DOCUMENT_REFERENCE_STATUS, str(r.status));
  return list;
}
