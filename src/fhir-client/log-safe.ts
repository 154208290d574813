/**
 * What of a FHIR server's answer may go to the log. OperationOutcome
 * diagnostics often quote the rejected content (a name, a Patient ID, a birth
 * date): the log gets the issue codes and a redacted text; the full text
 * stays in the study's lastError, which only the HTTP access model's callers
 * see (src/http/access.ts).
 *
 * Redacted: the study's own patient values (name and its components, Patient
 * ID, birth date, accession number), quoted strings, the value of
 * `system|value` tokens (UIDs kept), `name=value` of patient search
 * parameters, dates, and DICOM person names (`A^B`).
 */
import { FhirHttpError, type OperationOutcomeJson } from './fhir-client.js';

const REDACTED = '[redacted]';

/** The patient values of a study that must never reach the log (structurally: a StudyState). */
export interface PatientValues {
  patient?: {
    patientName?: { alphabetic?: string; ideographic?: string; phonetic?: string };
    patientId?: string;
    patientBirthDate?: string;
  };
  study?: { accessionNumber?: string };
}

export interface OutcomeIssueCode {
  severity?: string;
  code?: string;
  /** FHIRPath of the element at fault: a location, never a value. */
  expression?: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const isUid = (v: string) => /^(urn:oid:)?[0-9]+(\.[0-9]+)+$/.test(v);

/** The study's values, in the forms a server may echo (name components, a DA date as YYYY-MM-DD). */
function knownValues(values: PatientValues | undefined): string[] {
  const out = new Set<string>();
  const add = (v: string | undefined) => {
    const t = v?.trim();
    if (t && t.length >= 2) out.add(t);
  };
  const name = values?.patient?.patientName;
  for (const n of [name?.alphabetic, name?.ideographic, name?.phonetic]) {
    add(n);
    for (const part of (n ?? '').split(/[\^=\s]+/)) add(part);
    add(n?.replace(/\^/g, ' '));
  }
  add(values?.patient?.patientId);
  const birth = values?.patient?.patientBirthDate;
  add(birth);
  if (birth && /^\d{8}$/.test(birth)) add(`${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6)}`);
  add(values?.study?.accessionNumber);
  // Longest first, so a full name goes before its components.
  return [...out].sort((a, b) => b.length - a.length);
}

const PATIENT_PARAMS = /\b(identifier|name|family|given|birthdate|birthDate|patient|subject|accession|phone|email|address)=([^&\s,;)]+)/g;

/** The text with patient data taken out (see the file comment). */
export function redactDiagnostic(text: string, values?: PatientValues): string {
  let out = text;
  for (const v of knownValues(values)) out = out.replace(new RegExp(escape(v), 'gi'), REDACTED);
  // 'quoted', "quoted", “quoted”, ‘quoted’, `quoted` (an apostrophe inside a word is not a quote).
  out = out.replace(/(^|[^\w])(['"`‘“])([^'"`’”\n]{1,300})(['"`’”])(?=$|[^\w])/g, (_m, pre: string, open: string, _body, close: string) => `${pre}${open}${REDACTED}${close}`);
  // system|value: the system tells where, the value may be a Patient ID.
  out = out.replace(/([A-Za-z][\w+.-]*:[^\s|,;()]*)\|([^\s,;&)]+)/g, (m, system: string, value: string) => (isUid(value) ? m : `${system}|${REDACTED}`));
  // name=value (a system|value token was handled above).
  out = out.replace(PATIENT_PARAMS, (m, name: string, value: string) => (isUid(value) || value.includes('|') ? m : `${name}=${REDACTED}`));
  out = out.replace(/\b\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?\b/g, '[date]');
  out = out.replace(/\b(1[89]|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\b/g, '[date]');
  out = out.replace(/[^\s'"`,;()]*\^[^\s'"`,;()]*/g, REDACTED);
  return out;
}

/** The issue codes of an OperationOutcome (severity, code, expression): no free text. */
export function outcomeIssueCodes(outcome: OperationOutcomeJson | undefined): OutcomeIssueCode[] {
  return (outcome?.issue ?? []).map((issue) => ({
    ...(issue.severity ? { severity: issue.severity } : {}),
    ...(issue.code ? { code: issue.code } : {}),
    ...(issue.expression?.length ? { expression: issue.expression } : {}),
  }));
}

/** Fields for a log line about a failed FHIR request: the redacted text and, with an OperationOutcome, its issue codes. */
export function logSafeError(err: unknown, text: string, values?: PatientValues): { error: string; issues?: OutcomeIssueCode[] } {
  const issues = err instanceof FhirHttpError ? outcomeIssueCodes(err.outcome) : [];
  return { error: redactDiagnostic(text, values), ...(issues.length > 0 ? { issues } : {}) };
}
