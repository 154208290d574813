/**
 * Step one of the mapping: StudyState → a version-neutral model of what the
 * ImagingStudy says (values resolved, terminology looked up, dates converted,
 * counts computed, series and instances sorted). The per-version emitters in
 * map-imaging-study.ts only arrange it in each version's element names.
 */
import type { CodedEntry, PersonName } from '../dicom/attribute-values.js';
import type { SeriesAttributes } from '../dicom/instance-record.js';
import type { SeriesState, StudyState } from '../dicom/study-state.js';
import { codedEntryToCoding, codedEntryToConcept, conceptFrom, universalEntityIdSystem } from './coding.js';
import { toFhirDateTime, type DateTimeContext } from './datetime.js';
import { seriesLateralityCode } from './laterality.js';
import { reportDropped, type MappingOptions } from './mapping-options.js';
import { resolvePatientIdentifier, type ResolvedPatientIdentifier } from './patient-identifier.js';
import { personNameDisplay } from './person-name.js';
import { lookupBodyPart, lookupLaterality, lookupModality, type TermCode } from './terminology/index.js';
import type { CodeableConcept, Identifier } from './types/common.js';

/** A coded DICOM value: the table's code when known, else only the DICOM text. */
export interface TermValue {
  code?: TermCode;
  text: string;
}

export interface InstanceModel {
  uid: string;
  sopClassUid: string;
  number?: number;
  title?: string;
}

export interface SeriesModel {
  uid: string;
  number?: number;
  modality?: TermValue;
  description?: string;
  numberOfInstances: number;
  bodySite?: TermValue;
  laterality?: TermValue;
  started?: string;
  /** Distinct displays of performers and operators (STU3 has no function). */
  performers: string[];
  /** (0008,1050) → PRF, (0008,1070) → SPRF (v3 ParticipationType), distinct per function (R4/R5). */
  performersByFunction: Array<{ function: 'PRF' | 'SPRF'; display: string }>;
  instances: InstanceModel[];
}

export interface StudyModel {
  studyUid: string;
  accession?: Identifier;
  studyId?: string;
  modalities: TermValue[];
  patient?: ResolvedPatientIdentifier;
  patientDisplay?: string;
  started?: string;
  /** Display for the basedOn reference (requested procedure meaning). */
  requestedProcedureDisplay?: string;
  referrer?: string;
  interpreters: string[];
  numberOfSeries: number;
  numberOfInstances: number;
  procedureCodes: CodeableConcept[];
  reason?: CodeableConcept;
  description?: string;
  /** (0040,0243) Performed Location, else (0008,1040) Institutional Department Name (R4/R5 location display). */
  location?: string;
  series: SeriesModel[];
}

/** Compares DICOM UIDs component by component, numerically. */
export function compareUids(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** By number (missing numbers last), then UID. */
function byNumberThenUid(a: { number?: number; uid: string }, b: { number?: number; uid: string }): number {
  if (a.number !== undefined && b.number !== undefined && a.number !== b.number) return a.number - b.number;
  if (a.number !== undefined && b.number === undefined) return -1;
  if (a.number === undefined && b.number !== undefined) return 1;
  return compareUids(a.uid, b.uid);
}

function unsignedInt(value: number | undefined, what: string, options: MappingOptions): number | undefined {
  if (value === undefined) return undefined;
  if (Number.isInteger(value) && value >= 0 && value <= 2147483647) return value;
  reportDropped(options, what, String(value));
  return undefined;
}

function termValue(value: string | undefined, lookup: (v: string) => TermCode | undefined): TermValue | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const code = lookup(text);
  return code ? { code, text } : { text };
}

/**
 * (0008,2218) Anatomic Region Sequence → the coded body site: its code in the system of its Coding
 * Scheme Designator (coding-schemes.json: SCT → SNOMED CT), its Code Meaning as display. Only a code
 * in a known system outranks Body Part Examined; a region in a local scheme gives its meaning as text
 * when there is no Body Part Examined.
 */
function anatomicRegionValue(region: CodedEntry | undefined): { coded?: TermValue; text?: string } {
  if (!region) return {};
  const coding = codedEntryToCoding(region);
  const text = nonEmpty(region.codeMeaning) ?? nonEmpty(region.codeValue);
  if (coding?.system && coding.code) {
    const code: TermCode = { system: coding.system, code: coding.code, display: coding.display ?? '' };
    return { coded: { code, text: text ?? coding.code } };
  }
  return text ? { text } : {};
}

function displays(names: readonly (PersonName | undefined)[] | undefined): string[] {
  const out: string[] = [];
  for (const n of names ?? []) {
    const d = personNameDisplay(n);
    if (d && !out.includes(d)) out.push(d);
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/** Accession Number + Issuer of Accession Number → Identifier (type ACSN, system only when a URI). */
function accessionIdentifier(state: StudyState, options: MappingOptions): Identifier | undefined {
  const value = nonEmpty(state.study.accessionNumber);
  if (!value) return undefined;
  const issuer = state.study.issuerOfAccessionNumber;
  const local = nonEmpty(issuer?.localNamespaceEntityId);
  const table = options.patientIdentifier.issuerSystems;
  const fromTable = (k: string | undefined) =>
    k !== undefined && Object.prototype.hasOwnProperty.call(table, k) ? table[k] : undefined;
  const system = universalEntityIdSystem(issuer) ?? fromTable(nonEmpty(issuer?.universalEntityId)) ?? fromTable(local);
  const id: Identifier = {};
  // `type` is filled per version (the v2-0203 system URI differs in STU3).
  if (system) id.system = system;
  id.value = value;
  const assigner = local ?? (system ? undefined : nonEmpty(issuer?.universalEntityId));
  if (assigner) id.assigner = { display: assigner };
  return id;
}

function mapSeries(s: SeriesState, study: StudyState, ctx: DateTimeContext, options: MappingOptions): SeriesModel {
  const a: SeriesAttributes = s.attributes;
  const byUid = new Map<string, InstanceModel>();
  const lateralityByUid = new Map<string, string | undefined>();
  for (const i of s.instances) {
    const uid = nonEmpty(i.sopInstanceUid);
    if (!uid) continue;
    // SEG/PR Content Label, KO/encapsulated Document Title, SR Concept Name, RT Structure Set Label.
    const title = nonEmpty(i.contentLabel) ?? nonEmpty(i.documentTitle) ?? nonEmpty(i.conceptNameCode?.codeMeaning) ?? nonEmpty(i.structureSetLabel);
    const inst: InstanceModel = { uid, sopClassUid: i.sopClassUid.trim() };
    const number = unsignedInt(i.instanceNumber, 'InstanceNumber', options);
    if (number !== undefined) inst.number = number;
    if (title) inst.title = title;
    byUid.set(uid, inst); // latest wins for a re-sent instance
    lateralityByUid.set(uid, i.imageLaterality);
  }
  const instances = [...byUid.values()].sort(byNumberThenUid);
  // Series Date, else (when only Series Time is present) the Study Date.
  const seriesDate = a.seriesDate ?? (a.seriesTime ? study.study.studyDate : undefined);
  const started = toFhirDateTime(seriesDate, a.seriesTime, ctx, { date: 'SeriesDate', time: 'SeriesTime' });
  const model: SeriesModel = {
    uid: a.seriesInstanceUid.trim(),
    numberOfInstances: instances.length,
    performers: displays([...(a.performingPhysicianName ?? []), ...(a.operatorsName ?? [])]),
    performersByFunction: [
      ...displays(a.performingPhysicianName).map((display) => ({ function: 'PRF' as const, display })),
      ...displays(a.operatorsName).map((display) => ({ function: 'SPRF' as const, display })),
    ],
    instances,
  };
  const number = unsignedInt(a.seriesNumber, 'SeriesNumber', options);
  if (number !== undefined) model.number = number;
  const modality = termValue(a.modality, lookupModality);
  if (modality) model.modality = modality;
  const description = nonEmpty(a.seriesDescription);
  if (description) model.description = description;
  const region = anatomicRegionValue(a.anatomicRegion);
  const bodySite = region.coded ?? termValue(a.bodyPartExamined, lookupBodyPart) ?? (region.text ? { text: region.text } : undefined);
  if (bodySite) model.bodySite = bodySite;
  // Every image's Image Laterality (records queued before it was kept per instance: the series' latest).
  const perImage = [...lateralityByUid.values()];
  const imageLateralities = perImage.some((v) => v !== undefined) ? perImage : [a.imageLaterality];
  const laterality = termValue(seriesLateralityCode(a.laterality, imageLateralities), lookupLaterality);
  if (laterality) model.laterality = laterality;
  if (started) model.started = started;
  return model;
}

function concepts(entries: readonly CodedEntry[] | undefined): CodeableConcept[] {
  return (entries ?? []).map(codedEntryToConcept).filter((c): c is CodeableConcept => c !== undefined);
}

export function buildStudyModel(state: StudyState, options: MappingOptions): StudyModel {
  const ctx: DateTimeContext = {
    timezone: options.timezone,
    onDropped: (what, value) => reportDropped(options, what, value),
  };
  if (state.study.timezoneOffsetFromUtc !== undefined) ctx.timezoneOffsetFromUtc = state.study.timezoneOffsetFromUtc;

  // Series distinct by UID (instances merged), then sorted.
  const merged = new Map<string, SeriesState>();
  for (const s of state.series) {
    const uid = s.attributes.seriesInstanceUid.trim();
    const prev = merged.get(uid);
    merged.set(uid, prev ? { attributes: s.attributes, instances: [...prev.instances, ...s.instances] } : s);
  }
  const series = [...merged.values()].map((s) => mapSeries(s, state, ctx, options)).sort(byNumberThenUid);
  const instanceUids = new Set(series.flatMap((s) => s.instances.map((i) => i.uid)));

  const modalities: TermValue[] = [];
  for (const s of series) {
    if (s.modality && !modalities.some((m) => m.text.toUpperCase() === s.modality!.text.toUpperCase())) modalities.push(s.modality);
  }

  const model: StudyModel = {
    studyUid: state.study.studyInstanceUid.trim(),
    modalities,
    interpreters: displays(state.study.physiciansReadingStudy),
    numberOfSeries: series.length,
    numberOfInstances: instanceUids.size,
    procedureCodes: concepts(state.study.procedureCodes),
    series,
  };
  const accession = accessionIdentifier(state, options);
  if (accession) model.accession = accession;
  const studyId = nonEmpty(state.study.studyId);
  if (studyId) model.studyId = studyId;
  const patient = resolvePatientIdentifier(state, options);
  if (patient) model.patient = patient;
  const patientDisplay = personNameDisplay(state.patient.patientName);
  if (patientDisplay) model.patientDisplay = patientDisplay;
  const started = toFhirDateTime(state.study.studyDate, state.study.studyTime, ctx, { date: 'StudyDate', time: 'StudyTime' });
  if (started) model.started = started;
  const requested = state.study.requestedProcedureCodes?.find((c) => nonEmpty(c.codeMeaning))?.codeMeaning;
  if (requested) model.requestedProcedureDisplay = requested.trim();
  const referrer = personNameDisplay(state.study.referringPhysicianName);
  if (referrer) model.referrer = referrer;
  const reason = conceptFrom(state.study.reasonForRequestedProcedureCodes, nonEmpty(state.study.reasonForRequestedProcedure));
  if (reason) model.reason = reason;
  const description = nonEmpty(state.study.studyDescription);
  if (description) model.description = description;
  const location = nonEmpty(state.study.performedLocation) ?? nonEmpty(state.study.institutionalDepartmentName);
  if (location && options.location !== 'off') model.location = location;
  return model;
}
