/**
 * Key Object Selection Document (KOS) → FHIR. Pure: data in, resources out.
 *
 * - R5: one `ImagingSelection` per referenced series (an ImagingSelection is
 *   "within a single Study and Series").
 * - STU3: one `ImagingManifest` per KOS (study[] → series[] → instance[]);
 *   STU3 has no frame subsets: frame and segment selections are not carried.
 * - R4: no such resource. By default nothing separate: the KOS stays a series
 *   of the ImagingStudy and its title reaches `instance.title` through
 *   (0040,A043) Concept Name Code Meaning (map-imaging-study.ts). With
 *   `keyImages: 'extensions'`, one `Basic` per referenced series carrying the
 *   R5 ImagingSelection by the cross-version extensions of the HL7 package
 *   hl7.fhir.uv.xver-r5.r4 0.1.0 (profile
 *   http://hl7.org/fhir/5.0/StructureDefinition/profile-ImagingSelection):
 *   `Basic.identifier`, `Basic.subject` and `Basic.code` (the KOS title, as
 *   the HL7 Europe R4 imaging IG does) are Basic's own elements; every other
 *   element is the extension `http://hl7.org/fhir/5.0/StructureDefinition/
 *   extension-ImagingSelection.<element>`, `status` as a modifierExtension
 *   (ImagingSelection.status is a modifier element), `performer` and
 *   `instance` as complex extensions with relative sub-extension urls
 *   (`actor`, `uid`, `sopClass`, `subset`). Chosen over extensions on
 *   ImagingStudy because a KOS is a resource of its own (its own identifier,
 *   author, time, possibly several studies) and the xver profile is the
 *   published, validatable R4 form.
 *
 * Identity (deterministic; one KOS gives several selections):
 * - R5 / R4 Basic: identifier[0] = {urn:dicom:uid, urn:oid:<KOS SOP Instance
 *   UID>} (the DICOM document; finds all selections of a KOS), identifier[1]
 *   = {urn:dicom:uid, urn:oid:<referenced Series Instance UID>, type DCM
 *   112002 "Series Instance UID"} (the disambiguator). The conditional update
 *   query ANDs both: `identifier=…<kos>&identifier=…<series>`.
 * - STU3: identifier = {urn:ietf:rfc:3986, urn:oid:<KOS SOP Instance UID>};
 *   query `identifier=urn:ietf:rfc:3986|urn:oid:<uid>`.
 *
 * Subject / patient: `options.patientReference` when given, else a logical
 * reference by the patient identifier resolved as for the ImagingStudy
 * (patient-identifier.ts), display = patient name. derivedFrom /
 * imagingStudy: `imagingStudyReference` for the KOS's own study, else a
 * logical reference by the study's identifier (urn:dicom:uid). Time: Content
 * Date + Time (0008,0023)/(0008,0033) with (0008,0201) or the configured
 * zone; R5 `issued` (instant) only when a time is present. Author: the
 * observer's name as a display-only reference.
 */
import type { PatientAttributes } from '../dicom/instance-record.js';
import type { KeyObjectDocument, KeyObjectReference, RejectionReason } from '../dicom/key-object-document.js';
import { absentExtension, codedEntryToConcept } from './coding.js';
import { toFhirDateTime } from './datetime.js';
import { reportDropped, type FhirVersion, type MappingOptions } from './mapping-options.js';
import { resolvePatientIdentifier } from './patient-identifier.js';
import { personNameDisplay } from './person-name.js';
import { DCM_SYSTEM, DICOM_UID_SYSTEM, oidUri as oid, RFC3986_SYSTEM, XVER_IMAGING_SELECTION_EXT, XVER_IMAGING_SELECTION_PROFILE } from './systems.js';
import kosTitles from './terminology/kos-titles.json' with { type: 'json' };
import type { CodeableConcept, Coding, Identifier, Reference } from './types/common.js';
import type { ImagingManifest, ImagingManifestSeries, ImagingManifestStudy } from './types/imaging-manifest.js';
import type { ImagingSelection, ImagingSelectionInstance } from './types/imaging-selection.js';
import type * as R4 from './types/r4.js';

export type { ImagingManifest } from './types/imaging-manifest.js';
export type { ImagingSelection } from './types/imaging-selection.js';
export { XVER_IMAGING_SELECTION_EXT, XVER_IMAGING_SELECTION_PROFILE } from './systems.js';

/** How R4 carries key image selections: not at all (default) or as xver Basic resources. */
export type R4KeyImages = 'off' | 'extensions';

export interface KeyImageContext {
  /** (0020,000D) of the KOS itself. */
  studyInstanceUid: string;
  /** (0020,000E) of the KOS itself. */
  seriesInstanceUid: string;
  /** (0008,0018) of the KOS. */
  kosSopInstanceUid: string;
  /** (0008,0016) of the KOS (Key Object Selection Document Storage). */
  kosSopClassUid: string;
  /** The KOS's patient attributes (identifier resolution as for the ImagingStudy). */
  patient: PatientAttributes;
  /** (0008,0201) of the KOS, raw. */
  timezoneOffsetFromUtc?: string;
  /** Reference to the ImagingStudy of `studyInstanceUid` (e.g. 'ImagingStudy/12' or 'urn:uuid:…'). */
  imagingStudyReference?: string;
  /** Reference to the Endpoint; default `options.endpointReference`. */
  endpointReference?: string;
  /** R4 only; default 'off'. */
  keyImages?: R4KeyImages;
  options: MappingOptions;
}

export type KeyImageResource = ImagingSelection | ImagingManifest | R4.Basic;

/**
 * One key-image resource with the referenced series it is about: R5
 * ImagingSelection and R4 Basic are one per series; the STU3 ImagingManifest
 * covers the whole KOS (no series).
 */
export type KeyImageSelection =
  | { resource: ImagingSelection | R4.Basic; seriesInstanceUid: string }
  | { resource: ImagingManifest; seriesInstanceUid?: undefined };

/** A Reference whose `type` is one literal resource type: fits R4 (ResourceType) and R5 (uri); STU3 has no `type`. */
type TypedReference<T extends string> = Reference & { type?: T };

const TITLE_ENTRIES: Readonly<Record<string, { display: string; rejection?: boolean }>> = kosTitles.entries;

/** Series Instance UID identifier type (DCM 112002), as in the HL7 Europe imaging IGs. */
const SERIES_UID_TYPE: CodeableConcept = { coding: [{ system: DCM_SYSTEM, code: '112002', display: 'Series Instance UID' }] };

// ---------------------------------------------------------------------------
// helpers for the pipeline

/** SOP Instance UIDs a rejection note rejects; empty for any other KOS. */
export function rejectedInstanceUids(kos: KeyObjectDocument): Set<string> {
  return kos.isRejection ? new Set(kos.references.map((r) => r.sopInstanceUid)) : new Set();
}

/**
 * R4/R5 ImagingStudy.status for a study left without instances by IHE IOCM
 * rejection notes (imagingstudy-status: cancelled = "unavailable because …
 * not started or not completed"; entered-in-error = "withdrawn … should never
 * have existed … (if real-world activity has occurred, … cancelled)").
 * - 113037 Rejected for Patient Safety Reasons and 113038 Incorrect Modality
 *   Worklist Entry: the instances belong to another patient / order or must
 *   never be used; the study record under this patient/order should never
 *   have existed → `entered-in-error`.
 * - 113001 Rejected for Quality Reasons: an acquisition took place but gave
 *   nothing usable (IOCM: typically re-acquired) → `cancelled`.
 * - 113039 Data Retention Policy Expired: a real study whose instances were
 *   purged; no R4/R5 code says "purged", `cancelled` ("unavailable") is the
 *   closest and never claims the study was an error. (STU3 has no status:
 *   availability UNAVAILABLE.)
 */
export function emptyStudyStatus(reason: RejectionReason): 'entered-in-error' | 'cancelled' {
  return reason === '113037' || reason === '113038' ? 'entered-in-error' : 'cancelled';
}

/**
 * The query of the conditional update for one key-image resource:
 * R5 / R4 (Basic): `identifier=urn:dicom:uid|urn:oid:<kos>&identifier=urn:dicom:uid|urn:oid:<series>`
 * (both must match); STU3 (ImagingManifest, one per KOS):
 * `identifier=urn:ietf:rfc:3986|urn:oid:<kos>`. Values URL-encoded.
 */
export function keyImageConditionalQuery(kosSopInstanceUid: string, version: FhirVersion, seriesInstanceUid?: string): string {
  if (version === 'STU3') return `identifier=${encodeURIComponent(`${RFC3986_SYSTEM}|${oid(kosSopInstanceUid)}`)}`;
  const kos = `identifier=${encodeURIComponent(`${DICOM_UID_SYSTEM}|${oid(kosSopInstanceUid)}`)}`;
  if (seriesInstanceUid === undefined) return kos;
  return `${kos}&identifier=${encodeURIComponent(`${DICOM_UID_SYSTEM}|${oid(seriesInstanceUid)}`)}`;
}

/** The FHIR resource type the key images of a KOS become in a version (undefined: none). */
export function keyImageResourceType(version: 'R5', keyImages?: R4KeyImages): 'ImagingSelection';
export function keyImageResourceType(version: 'STU3', keyImages?: R4KeyImages): 'ImagingManifest';
export function keyImageResourceType(version: 'R4', keyImages?: R4KeyImages): 'Basic' | undefined;
export function keyImageResourceType(version: FhirVersion, keyImages?: R4KeyImages): KeyImageResource['resourceType'] | undefined;
export function keyImageResourceType(version: FhirVersion, keyImages: R4KeyImages = 'off'): KeyImageResource['resourceType'] | undefined {
  if (version === 'R5') return 'ImagingSelection';
  if (version === 'STU3') return 'ImagingManifest';
  return keyImages === 'extensions' ? 'Basic' : undefined;
}

// ---------------------------------------------------------------------------
// version-neutral pieces

interface SeriesSelection {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  references: KeyObjectReference[];
}

/** References grouped by study then series, in document order. */
function bySeries(kos: KeyObjectDocument): SeriesSelection[] {
  const out = new Map<string, SeriesSelection>();
  for (const r of kos.references) {
    const key = `${r.studyInstanceUid}|${r.seriesInstanceUid}`;
    const s = out.get(key) ?? { studyInstanceUid: r.studyInstanceUid, seriesInstanceUid: r.seriesInstanceUid, references: [] };
    s.references.push(r);
    out.set(key, s);
  }
  return [...out.values()];
}

/** The title as CodeableConcept: DCM coding (display from CID 7010 when the sender gave none), text = meaning. */
function titleConcept(kos: KeyObjectDocument): CodeableConcept {
  const title = { ...kos.title };
  if (!title.codeMeaning && title.codingSchemeDesignator === 'DCM' && title.codeValue) {
    const known = Object.prototype.hasOwnProperty.call(TITLE_ENTRIES, title.codeValue) ? TITLE_ENTRIES[title.codeValue] : undefined;
    if (known) title.codeMeaning = known.display;
  }
  return codedEntryToConcept(title) ?? { text: title.codeValue ?? 'Key Object Selection' };
}

function patientReference(ctx: KeyImageContext, withType: boolean): TypedReference<'Patient'> {
  const display = personNameDisplay(ctx.patient.patientName);
  if (ctx.options.patientReference) {
    const ref: TypedReference<'Patient'> = { reference: ctx.options.patientReference };
    if (display) ref.display = display;
    return ref;
  }
  const resolved = resolvePatientIdentifier({ patient: ctx.patient }, ctx.options);
  if (resolved) {
    const identifier: Identifier = { system: resolved.system, value: resolved.value };
    if (resolved.assignerDisplay) identifier.assigner = { display: resolved.assignerDisplay };
    const ref: TypedReference<'Patient'> = withType ? { type: 'Patient', identifier } : { identifier };
    if (display) ref.display = display;
    return ref;
  }
  return display ? { display } : { extension: absentExtension() };
}

function studyReference(ctx: KeyImageContext, studyUid: string, withType: boolean): TypedReference<'ImagingStudy'> {
  if (ctx.imagingStudyReference && studyUid === ctx.studyInstanceUid) return { reference: ctx.imagingStudyReference };
  const identifier: Identifier = { system: DICOM_UID_SYSTEM, value: oid(studyUid) };
  return withType ? { type: 'ImagingStudy', identifier } : { identifier };
}

function endpoint(ctx: KeyImageContext): Reference[] | undefined {
  const ref = ctx.endpointReference ?? ctx.options.endpointReference;
  return ref ? [{ reference: ref }] : undefined;
}

function authoredAt(kos: KeyObjectDocument, ctx: KeyImageContext): string | undefined {
  const dtx: Parameters<typeof toFhirDateTime>[2] = {
    timezone: ctx.options.timezone,
    onDropped: (what, value) => reportDropped(ctx.options, what, value),
  };
  if (ctx.timezoneOffsetFromUtc !== undefined) dtx.timezoneOffsetFromUtc = ctx.timezoneOffsetFromUtc;
  return toFhirDateTime(kos.contentDate, kos.contentTime, dtx, { date: 'ContentDate', time: 'ContentTime' });
}

/** An instant needs a time with seconds and an offset. */
function asInstant(dateTime: string | undefined): string | undefined {
  return dateTime && dateTime.includes('T') ? dateTime : undefined;
}

function selectionIdentifiers(ctx: KeyImageContext, seriesUid: string): Identifier[] {
  return [
    { system: DICOM_UID_SYSTEM, value: oid(ctx.kosSopInstanceUid) },
    { type: SERIES_UID_TYPE, system: DICOM_UID_SYSTEM, value: oid(seriesUid) },
  ];
}

function sopClassCoding(uid: string): Coding {
  return { system: RFC3986_SYSTEM, code: oid(uid) };
}

function subset(r: KeyObjectReference): string[] | undefined {
  const numbers = r.frames ?? r.segments;
  return numbers && numbers.length > 0 ? numbers.map(String) : undefined;
}

// ---------------------------------------------------------------------------
// R5

function r5Selection(kos: KeyObjectDocument, s: SeriesSelection, ctx: KeyImageContext, issued: string | undefined): ImagingSelection {
  const observer = personNameDisplay(kos.observer);
  const ep = endpoint(ctx);
  // In specification order.
  return {
    resourceType: 'ImagingSelection',
    identifier: selectionIdentifiers(ctx, s.seriesInstanceUid),
    status: 'available',
    subject: patientReference(ctx, true),
    ...(issued ? { issued } : {}),
    ...(observer ? { performer: [{ actor: { display: observer } }] } : {}),
    code: titleConcept(kos),
    studyUid: s.studyInstanceUid,
    derivedFrom: [studyReference(ctx, s.studyInstanceUid, true)],
    ...(ep ? { endpoint: ep } : {}),
    seriesUid: s.seriesInstanceUid,
    instance: s.references.map((r) => {
      const i: ImagingSelectionInstance = { uid: r.sopInstanceUid, sopClass: sopClassCoding(r.sopClassUid) };
      const sub = subset(r);
      if (sub) i.subset = sub;
      return i;
    }),
  };
}

// ---------------------------------------------------------------------------
// R4: Basic with the R5 ImagingSelection cross-version extensions

function ext(element: string): string {
  return `${XVER_IMAGING_SELECTION_EXT}.${element}`;
}

function r4Basic(kos: KeyObjectDocument, s: SeriesSelection, ctx: KeyImageContext, issued: string | undefined): R4.Basic {
  const extension: R4.Extension[] = [];
  if (issued) extension.push({ url: ext('issued'), valueInstant: issued });
  const observer = personNameDisplay(kos.observer);
  if (observer) extension.push({ url: ext('performer'), extension: [{ url: 'actor', valueReference: { display: observer } }] });
  const code = titleConcept(kos);
  extension.push({ url: ext('code'), valueCodeableConcept: code });
  extension.push({ url: ext('studyUid'), valueId: s.studyInstanceUid });
  extension.push({ url: ext('derivedFrom'), valueReference: studyReference(ctx, s.studyInstanceUid, true) });
  for (const e of endpoint(ctx) ?? []) extension.push({ url: ext('endpoint'), valueReference: e });
  extension.push({ url: ext('seriesUid'), valueId: s.seriesInstanceUid });
  for (const r of s.references) {
    const parts: R4.Extension[] = [
      { url: 'uid', valueId: r.sopInstanceUid },
      { url: 'sopClass', valueCoding: sopClassCoding(r.sopClassUid) },
    ];
    for (const n of subset(r) ?? []) parts.push({ url: 'subset', valueString: n });
    extension.push({ url: ext('instance'), extension: parts });
  }
  return {
    resourceType: 'Basic',
    meta: { profile: [XVER_IMAGING_SELECTION_PROFILE] },
    extension,
    modifierExtension: [{ url: ext('status'), valueCode: 'available' }],
    identifier: selectionIdentifiers(ctx, s.seriesInstanceUid),
    code,
    subject: patientReference(ctx, true),
  };
}

// ---------------------------------------------------------------------------
// STU3

function stu3Manifest(kos: KeyObjectDocument, ctx: KeyImageContext, authoringTime: string | undefined): ImagingManifest {
  const studies = new Map<string, ImagingManifestStudy>();
  const ep = endpoint(ctx);
  for (const s of bySeries(kos)) {
    let study = studies.get(s.studyInstanceUid);
    if (!study) {
      study = { uid: oid(s.studyInstanceUid), imagingStudy: studyReference(ctx, s.studyInstanceUid, false), series: [] };
      if (ep) study.endpoint = ep;
      studies.set(s.studyInstanceUid, study);
    }
    const series: ImagingManifestSeries = {
      uid: oid(s.seriesInstanceUid),
      instance: s.references.map((r) => ({ sopClass: oid(r.sopClassUid), uid: oid(r.sopInstanceUid) })),
    };
    study.series.push(series);
  }
  const observer = personNameDisplay(kos.observer);
  const title = titleConcept(kos).text ?? kos.title.codeValue;
  const description = [title, kos.description].filter((t): t is string => !!t).join(': ');
  // In specification order.
  return {
    resourceType: 'ImagingManifest',
    identifier: { system: RFC3986_SYSTEM, value: oid(ctx.kosSopInstanceUid) },
    patient: patientReference(ctx, false),
    ...(authoringTime ? { authoringTime } : {}),
    ...(observer ? { author: { display: observer } } : {}),
    ...(description ? { description } : {}),
    study: [...studies.values()],
  };
}

// ---------------------------------------------------------------------------

/**
 * The key-image resources of one KOS for the configured FHIR version, each
 * with the series it selects: R5 ImagingSelection (one per referenced
 * series), STU3 one ImagingManifest (no series), R4 none or Basic
 * (`keyImages: 'extensions'`, one per series). Empty when the KOS
 * references nothing.
 */
export function mapKeyImageSelections(kos: KeyObjectDocument, ctx: KeyImageContext): KeyImageSelection[] {
  if (kos.references.length === 0) return [];
  const at = authoredAt(kos, ctx);
  switch (ctx.options.fhirVersion) {
    case 'R5':
      return bySeries(kos).map((s) => ({ resource: r5Selection(kos, s, ctx, asInstant(at)), seriesInstanceUid: s.seriesInstanceUid }));
    case 'STU3':
      return [{ resource: stu3Manifest(kos, ctx, at) }];
    case 'R4':
    default:
      if ((ctx.keyImages ?? 'off') !== 'extensions') return [];
      return bySeries(kos).map((s) => ({ resource: r4Basic(kos, s, ctx, asInstant(at)), seriesInstanceUid: s.seriesInstanceUid }));
  }
}
