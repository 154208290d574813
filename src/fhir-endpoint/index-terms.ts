/**
 * Index terms of a generated resource, from its JSON, per FHIR version, and
 * FHIR date/dateTime values as instant ranges. Pure.
 *
 * Index parameters (what a search parameter of src/http/fhir/ looks up):
 *
 * | param              | ImagingStudy R4 / R5                              | STU3                          |
 * |--------------------|---------------------------------------------------|-------------------------------|
 * | identifier         | identifier[] (system, value)                      | identifier[]                  |
 * | accession          | identifier[] with type ACSN (R5: basedOn[].identifier too) | accession            |
 * | study              | identifier urn:dicom:uid, value without urn:oid:  | uid (without urn:oid:)        |
 * | status             | status (system imagingstudy-status)               | —                             |
 * | modality           | modality[] and series[].modality                  | modalityList, series.modality |
 * | bodysite           | series[].bodySite (R5: .concept)                  | series.bodySite               |
 * | reason             | reasonCode (R5: reason.concept)                   | reason                        |
 * | series             | series[].uid                                      | series.uid (no urn:oid:)      |
 * | instance           | series[].instance[].uid                           | same (no urn:oid:)            |
 * | dicom-class        | instance.sopClass (system urn:ietf:rfc:3986, code the OID without urn:oid:) | sopClass |
 * | started            | started (range)                                   | started                       |
 * | patient            | subject: `Patient/<id>`; a logical reference by identifier gives `Patient/<patientId(identifier)>` | patient |
 * | patient:identifier | subject.identifier                                | patient.identifier            |
 * | basedon            | basedOn[].reference (`Type/id`)                   | same                          |
 * | basedon:identifier | basedOn[].identifier                              | same                          |
 * | endpoint           | endpoint[], series[].endpoint (`Endpoint/id`)     | same                          |
 * Patient and Endpoint: identifier.
 *
 * UIDs are indexed without `urn:oid:` so that both forms find them.
 */
import { zoneOffsetAt } from '../fhir/datetime.js';
import type { FhirVersion } from '../fhir/mapping-options.js';
import { patientId, stripOid, studyUidOf } from '../fhir/resource-ids.js';
import { IMAGINGSTUDY_STATUS_SYSTEM, RFC3986_SYSTEM } from '../fhir/systems.js';
import type { FhirResource } from './resource-index.js';
import { documentReferenceTerms } from './document-reference-terms.js';

export interface IndexTerm {
  param: string;
  system?: string;
  code?: string;
  /** Dates: [low, high) in epoch ms. */
  low?: number;
  high?: number;
}

const ACSN = 'ACSN';

type Json = Record<string, unknown>;

const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : v && typeof v === 'object' ? [v as Json] : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

class Terms {
  readonly list: IndexTerm[] = [];
  private readonly seen = new Set<string>();

  token(param: string, system: string | undefined, code: string | undefined): void {
    if (code === undefined) return;
    const key = `${param}\u0000${system ?? ''}\u0000${code}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(system === undefined ? { param, code } : { param, system, code });
  }

  coding(param: string, c: Json | undefined): void {
    if (c) this.token(param, str(c.system), str(c.code));
  }

  concept(param: string, cc: Json | undefined): void {
    for (const c of arr(cc?.coding)) this.coding(param, c);
  }

  identifier(param: string, i: Json | undefined): void {
    if (i) this.token(param, str(i.system), str(i.value));
  }

  /** A reference: `Type/id` (relative, or the tail of an absolute URL), and its identifier. */
  reference(param: string, ref: Json | undefined, defaultType?: string): void {
    if (!ref) return;
    const r = str(ref.reference);
    if (r) {
      const norm = normalizeReference(r, defaultType);
      if (norm) this.token(param, undefined, norm);
    }
    const ident = ref.identifier as Json | undefined;
    if (ident) this.identifier(`${param}:identifier`, ident);
  }

  date(param: string, value: unknown, timezone: string): void {
    const v = str(value);
    if (!v) return;
    const range = fhirDateRange(v, timezone);
    if (range) this.list.push({ param, low: range.low, high: range.high });
  }
}

/**
 * `Patient/1`, `Patient/1/_history/2`, `http://x/fhir/Patient/1` → `Patient/1`;
 * a bare id with a default type → `Type/id`. Undefined for `#contained`, `urn:` forms.
 */
export function normalizeReference(reference: string, defaultType?: string): string | undefined {
  if (reference.startsWith('#') || reference.startsWith('urn:')) return undefined;
  const parts = reference.split('/').filter((p) => p !== '');
  const h = parts.indexOf('_history');
  if (h >= 0) parts.length = h;
  if (parts.length >= 2) return `${parts[parts.length - 2]}/${parts[parts.length - 1]}`;
  if (parts.length === 1 && defaultType) return `${defaultType}/${parts[0]}`;
  return undefined;
}

function subject(t: Terms, ref: Json | undefined): void {
  if (!ref) return;
  t.reference('patient', ref, 'Patient');
  const ident = ref.identifier as Json | undefined;
  const value = str(ident?.value);
  if (!str(ref.reference) && value) t.token('patient', undefined, `Patient/${patientId({ system: str(ident?.system), value })}`);
}

function imagingStudyTerms(r: Json, version: FhirVersion, timezone: string): IndexTerm[] {
  const t = new Terms();
  const stu3 = version === 'STU3';
  const r5 = version === 'R5';
  const studyUid = studyUidOf(r);
  if (studyUid) t.token('study', undefined, studyUid);
  for (const i of arr(r.identifier)) {
    t.identifier('identifier', i);
    if (!stu3 && arr((i.type as Json | undefined)?.coding).some((c) => c.code === ACSN)) t.identifier('accession', i);
  }
  if (stu3) t.identifier('accession', r.accession as Json | undefined);
  // R5's mapping puts the accession in basedOn (the order's identifier), not in identifier.
  if (r5) for (const b of arr(r.basedOn)) {
    const i = b.identifier as Json | undefined;
    if (arr((i?.type as Json | undefined)?.coding).some((c) => c.code === ACSN)) t.identifier('accession', i);
  }
  if (!stu3) t.token('status', IMAGINGSTUDY_STATUS_SYSTEM, str(r.status));
  for (const m of arr(stu3 ? r.modalityList : r.modality)) r5 ? t.concept('modality', m) : t.coding('modality', m);
  subject(t, (stu3 ? r.patient : r.subject) as Json | undefined);
  t.date('started', r.started, timezone);
  for (const b of arr(r.basedOn)) t.reference('basedon', b);
  for (const e of arr(r.endpoint)) t.reference('endpoint', e, 'Endpoint');
  if (stu3) t.concept('reason', r.reason as Json | undefined);
  else if (r5) for (const x of arr(r.reason)) t.concept('reason', x.concept as Json | undefined);
  else for (const x of arr(r.reasonCode)) t.concept('reason', x);
  for (const s of arr(r.series)) {
    t.token('series', undefined, str(s.uid) && stripOid(s.uid as string));
    if (r5) t.concept('modality', s.modality as Json | undefined);
    else t.coding('modality', s.modality as Json | undefined);
    if (r5) t.concept('bodysite', (s.bodySite as Json | undefined)?.concept as Json | undefined);
    else t.coding('bodysite', s.bodySite as Json | undefined);
    for (const e of arr(s.endpoint)) t.reference('endpoint', e, 'Endpoint');
    for (const i of arr(s.instance)) {
      t.token('instance', undefined, str(i.uid) && stripOid(i.uid as string));
      const sop = stu3 ? str(i.sopClass) : str((i.sopClass as Json | undefined)?.code);
      if (sop) t.token('dicom-class', RFC3986_SYSTEM, stripOid(sop));
    }
  }
  return t.list;
}

/** The index terms of a resource of the given FHIR version. */
export function indexTerms(resource: FhirResource, version: FhirVersion, timezone = 'UTC'): IndexTerm[] {
  if (resource.resourceType === 'ImagingStudy') return imagingStudyTerms(resource, version, timezone);
  if (resource.resourceType === 'DocumentReference') return documentReferenceTerms(resource, (v) => fhirDateRange(v, timezone));
  const t = new Terms();
  for (const i of arr(resource.identifier)) t.identifier('identifier', i);
  return t.list;
}

/** The sort key of a resource (the low end of ImagingStudy.started), or null. */
export function sortStarted(resource: FhirResource, timezone = 'UTC'): number | null {
  const v = str(resource.started);
  return v ? (fhirDateRange(v, timezone)?.low ?? null) : null;
}

// ---------------------------------------------------------------------------
// date / dateTime → [low, high)

const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function wallUtc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms));
  date.setUTCFullYear(y);
  return date.getTime();
}

/** Epoch ms of a wall-clock time (given as if UTC) in an IANA zone; falls back to UTC for an unknown zone. */
function wallToEpoch(wall: number, timezone: string): number {
  const first = zoneOffsetAt(timezone, wall);
  if (first === undefined) return wall;
  const guess = wall - first * 60000;
  const second = zoneOffsetAt(timezone, guess);
  return second === undefined || second === first ? guess : wall - second * 60000;
}

function daysIn(y: number, m: number): number {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  // Day 0 of the next month in the leap year 2000 = the last day of month m.
  return new Date(Date.UTC(2000, m, 0)).getUTCDate() - (m === 2 && !leap ? 1 : 0);
}

/**
 * A FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.f]][Z|±hh:mm])
 * as the range of instants it denotes at its precision, [low, high) in epoch ms.
 * A value without an offset (every date, and a dateTime without one) is read
 * in `timezone` (search.html: "the server's local time zone should be assumed";
 * here: the configured site timezone). Undefined when malformed.
 */
export function fhirDateRange(value: string, timezone = 'UTC'): { low: number; high: number } | undefined {
  const m = DATE_TIME.exec(value.trim());
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = m[2] === undefined ? undefined : Number(m[2]);
  const d = m[3] === undefined ? undefined : Number(m[3]);
  if (mo !== undefined && (mo < 1 || mo > 12)) return undefined;
  if (d !== undefined && (d < 1 || d > daysIn(y, mo!))) return undefined;
  if (m[4] === undefined) {
    // Date precision: local midnight to the next unit's local midnight.
    const start = wallUtc(y, mo ?? 1, d ?? 1);
    const end = d !== undefined ? wallUtc(y, mo!, d + 1) : mo !== undefined ? wallUtc(y, mo + 1, 1) : wallUtc(y + 1, 1, 1);
    return { low: wallToEpoch(start, timezone), high: wallToEpoch(end, timezone) };
  }
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = m[6] === undefined ? undefined : Number(m[6]);
  if (h > 23 || mi > 59 || (s !== undefined && s > 60)) return undefined;
  const fraction = m[7] ?? '';
  const msDigits = fraction.slice(0, 3).padEnd(3, '0');
  const unit = s === undefined ? 60_000 : fraction.length === 0 ? 1000 : fraction.length === 1 ? 100 : fraction.length === 2 ? 10 : 1;
  const wall = wallUtc(y, mo!, d!, h, mi, Math.min(s ?? 0, 59), Number(msDigits)) + (s === 60 ? 1000 : 0);
  const tz = m[8];
  let low: number;
  if (tz === undefined) low = wallToEpoch(wall, timezone);
  else if (tz === 'Z') low = wall;
  else {
    const sign = tz[0] === '-' ? -1 : 1;
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 14 || om > 59) return undefined;
    low = wall - sign * (oh * 60 + om) * 60000;
  }
  return { low, high: low + unit };
}
