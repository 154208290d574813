/**
 * StudyState → ImagingStudy in STU3, R4 or R5 (mapping.md). Pure: no I/O,
 * no clock. Elements are emitted in each version's specification order.
 *
 * Decisions (see also datetime.ts, person-name.ts, patient-identifier.ts):
 * - subject / patient (1..1): `options.patientReference` when given; else a
 *   logical reference by the resolved patient identifier (R4/R5 with
 *   `type: 'Patient'`), display = patient name. With no Patient ID at all the
 *   reference carries the patient name as `display` only, or, with no name
 *   either, only a data-absent-reason extension (`unknown`): the element is
 *   required, and an invented identifier would be worse.
 * - series.modality (1..1) with no Modality: a Coding / CodeableConcept with
 *   only a data-absent-reason extension. Unknown modality, body part or
 *   laterality values keep the DICOM text (Coding.display, or
 *   CodeableConcept.text in R5) and get no code.
 * - basedOn ('accession'): logical reference by the accession Identifier
 *   (type ACSN); R4/R5 `type: 'ServiceRequest'`; STU3 has no Reference.type:
 *   the identifier alone (its target is the ProcedureRequest / ReferralRequest
 *   carrying that accession). Display = first Requested Procedure Code meaning.
 *   In R5 the accession is then in basedOn only (R5's mapping of (0008,0050)).
 * - interpreter does not exist in R5: (0008,1060) is not mapped there.
 * - location (R4/R5): display-only Reference(Location) from (0040,0243) Performed Location, else
 *   (0008,1040) Institutional Department Name (the FHIR mapping lists both); `options.location`
 *   'off' leaves it out. STU3's ImagingStudy has no location element: not mapped there.
 */
import type { StudyState } from '../dicom/study-state.js';
import { absentCoding, absentExtension } from './coding.js';
import { emptyStudyStatus } from './map-key-images.js';
import type { FhirVersion, MappingOptions } from './mapping-options.js';
import { resolvePatientIdentifier } from './patient-identifier.js';
import { buildStudyModel, type InstanceModel, type SeriesModel, type StudyModel, type TermValue } from './study-model.js';
import { isNonAcquisitionModality } from './terminology/index.js';
import { DICOM_UID_SYSTEM, oidUri as oid, RFC3986_SYSTEM, V2_0203_SYSTEM, V2_0203_SYSTEM_STU3, V3_PARTICIPATION_TYPE_SYSTEM } from './systems.js';
import type { CodeableConcept, Coding, Identifier, Reference } from './types/common.js';
import type { ResourceOf } from './types/index.js';
import type * as R4 from './types/r4.js';
import type * as R5 from './types/r5.js';
import type * as STU3 from './types/stu3.js';

export type { FhirVersion, MappingOptions } from './mapping-options.js';

/** The ImagingStudy of version V (of any version when V is FhirVersion). */
export type ImagingStudyOf<V extends FhirVersion> = ResourceOf<V, 'ImagingStudy'>;
export type R4ImagingStudyResource = R4.ImagingStudy;
export type R5ImagingStudyResource = R5.ImagingStudy;
export type STU3ImagingStudyResource = STU3.ImagingStudy;
export type ImagingStudyResource = ImagingStudyOf<FhirVersion>;

/** Builds the ImagingStudy of a study in the version of `options.fhirVersion` (mapImagingStudy is one). */
export type StudyMapper = (state: StudyState, options: MappingOptions) => ImagingStudyResource;

/** `urn:dicom:uid|urn:oid:<uid>`: the token of the R4/R5 `identifier` search. */
export function studyIdentifierQuery(studyInstanceUid: string): string {
  return `${DICOM_UID_SYSTEM}|${oid(studyInstanceUid)}`;
}

/**
 * The search query that finds the one ImagingStudy of a study (for a
 * conditional update): R4/R5 `identifier=urn:dicom:uid|urn:oid:<uid>`;
 * STU3 `study=urn:oid:<uid>` (STU3 search parameter `study`, type uri, path
 * ImagingStudy.uid; STU3's `uid` parameter searches instance UIDs and
 * `identifier` only the "other identifiers"). Values are URL-encoded.
 */
export function conditionalUpdateQuery(studyInstanceUid: string, version: FhirVersion): string {
  if (version === 'STU3') return `study=${encodeURIComponent(oid(studyInstanceUid))}`;
  return `identifier=${encodeURIComponent(studyIdentifierQuery(studyInstanceUid))}`;
}

/** The patient identifier (system resolved per mapping.md), or undefined without a Patient ID. */
export function patientIdentifier(state: StudyState, options: MappingOptions): { system: string; value: string } | undefined {
  const r = resolvePatientIdentifier(state, options);
  return r ? { system: r.system, value: r.value } : undefined;
}

// ---------------------------------------------------------------------------
// shared pieces

function acsnType(version: FhirVersion): CodeableConcept {
  return { coding: [{ system: version === 'STU3' ? V2_0203_SYSTEM_STU3 : V2_0203_SYSTEM, code: 'ACSN' }] };
}

function accessionWithType(m: StudyModel, version: FhirVersion): Identifier | undefined {
  if (!m.accession) return undefined;
  const { system, value, assigner } = m.accession;
  const id: Identifier = { type: acsnType(version) };
  if (system) id.system = system;
  id.value = value!;
  if (assigner) id.assigner = assigner;
  return id;
}

/**
 * A Reference whose `type` is one literal resource type: assignable to R4's
 * Reference (type: ResourceType) and R5's (type: uri) alike; STU3 has none.
 */
type TypedReference<T extends string> = Reference & { type?: T };

function subjectReference(m: StudyModel, options: MappingOptions, withType: boolean): TypedReference<'Patient'> {
  if (options.patientReference) {
    const ref: TypedReference<'Patient'> = { reference: options.patientReference };
    if (m.patientDisplay) ref.display = m.patientDisplay;
    return ref;
  }
  if (m.patient) {
    const identifier: Identifier = { system: m.patient.system, value: m.patient.value };
    if (m.patient.assignerDisplay) identifier.assigner = { display: m.patient.assignerDisplay };
    const ref: TypedReference<'Patient'> = withType ? { type: 'Patient', identifier } : { identifier };
    if (m.patientDisplay) ref.display = m.patientDisplay;
    return ref;
  }
  if (m.patientDisplay) return { display: m.patientDisplay };
  return { extension: absentExtension() };
}

function basedOnReferences(m: StudyModel, options: MappingOptions, version: FhirVersion): Array<TypedReference<'ServiceRequest'>> | undefined {
  if (options.basedOn !== 'accession') return undefined;
  const identifier = accessionWithType(m, version);
  if (!identifier) return undefined;
  const ref: TypedReference<'ServiceRequest'> = version === 'STU3' ? { identifier } : { type: 'ServiceRequest', identifier };
  if (m.requestedProcedureDisplay) ref.display = m.requestedProcedureDisplay;
  return [ref];
}

/**
 * series.performer with its function (R4/R5): Performing Physician's Name (0008,1050) is the performer
 * (PRF), Operators' Name (0008,1070) the secondary performer (SPRF), as R5's ImagingSelection mapping
 * and dcm4chee have it. Someone who is both is listed under each function.
 */
const PERFORMER_FUNCTION = {
  PRF: { system: V3_PARTICIPATION_TYPE_SYSTEM, code: 'PRF', display: 'performer' },
  SPRF: { system: V3_PARTICIPATION_TYPE_SYSTEM, code: 'SPRF', display: 'secondary performer' },
} as const;

function performersWithFunction(s: SeriesModel): Array<{ function: CodeableConcept; actor: Reference }> | undefined {
  return nonEmptyArray(s.performersByFunction.map((p) => ({ function: { coding: [{ ...PERFORMER_FUNCTION[p.function] }] }, actor: display(p.display) })));
}

function endpointRefs(options: MappingOptions): Reference[] | undefined {
  return options.endpointReference ? [{ reference: options.endpointReference }] : undefined;
}

function display(d: string): Reference {
  return { display: d };
}

/** TermValue → Coding (known: system/code/display, display left out when there is none; unknown: display = DICOM text). */
function termCoding(t: TermValue): Coding {
  if (!t.code) return { display: t.text };
  return t.code.display ? { system: t.code.system, code: t.code.code, display: t.code.display } : { system: t.code.system, code: t.code.code };
}

/** ImagingStudy.location (R4/R5): a display-only Reference(Location); the bridge knows no Location resource. */
function locationReference(m: StudyModel): TypedReference<'Location'> | undefined {
  return m.location ? { display: m.location } : undefined;
}

/** TermValue → CodeableConcept (known: coding; unknown: text = DICOM text). */
function termConcept(t: TermValue): CodeableConcept {
  return t.code ? { coding: [termCoding(t)] } : { text: t.text };
}

/**
 * The study-level modality list of R4 and STU3: their definitions (and binding, CID 29) name the
 * acquisition modalities only, so CID 32 values (SR, KO, PR, SEG, RTSTRUCT, ...) are left out; R5's
 * ImagingStudy.modality is "all of the distinct values for series' modalities" (CID 33): all.
 */
function acquisitionModalities(m: StudyModel): TermValue[] {
  return m.modalities.filter((t) => !isNonAcquisitionModality(t.text));
}

function nonEmptyArray<T>(a: T[] | undefined): T[] | undefined {
  return a && a.length ? a : undefined;
}

/** Drops undefined members, keeping insertion (= specification) order. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

// ---------------------------------------------------------------------------
// R4 (4.0.1)

function r4Instance(i: InstanceModel): R4.ImagingStudySeriesInstance {
  return compact<R4.ImagingStudySeriesInstance>({
    uid: i.uid,
    sopClass: { system: RFC3986_SYSTEM, code: oid(i.sopClassUid) },
    number: i.number,
    title: i.title,
  });
}

function r4Series(s: SeriesModel): R4.ImagingStudySeries {
  return compact<R4.ImagingStudySeries>({
    uid: s.uid,
    number: s.number,
    modality: s.modality ? termCoding(s.modality) : absentCoding(),
    description: s.description,
    numberOfInstances: s.numberOfInstances,
    bodySite: s.bodySite ? termCoding(s.bodySite) : undefined,
    laterality: s.laterality ? termCoding(s.laterality) : undefined,
    started: s.started,
    performer: performersWithFunction(s),
    instance: nonEmptyArray(s.instances.map(r4Instance)),
  });
}

function toR4(m: StudyModel, options: MappingOptions): R4.ImagingStudy {
  const identifier: R4.Identifier[] = [{ system: DICOM_UID_SYSTEM, value: oid(m.studyUid) }];
  const acc = accessionWithType(m, 'R4');
  if (acc) identifier.push(acc);
  if (m.studyId) identifier.push({ value: m.studyId });
  return compact<R4.ImagingStudy>({
    resourceType: 'ImagingStudy',
    identifier,
    status: 'available',
    modality: nonEmptyArray(acquisitionModalities(m).map(termCoding)),
    subject: subjectReference(m, options, true),
    started: m.started,
    basedOn: basedOnReferences(m, options, 'R4'),
    referrer: m.referrer ? display(m.referrer) : undefined,
    interpreter: nonEmptyArray(m.interpreters.map(display)),
    endpoint: endpointRefs(options),
    numberOfSeries: m.numberOfSeries,
    numberOfInstances: m.numberOfInstances,
    procedureCode: nonEmptyArray(m.procedureCodes),
    location: locationReference(m),
    reasonCode: m.reason ? [m.reason] : undefined,
    description: m.description,
    series: nonEmptyArray(m.series.map(r4Series)),
  });
}

// ---------------------------------------------------------------------------
// R5 (5.0.0)

function r5Instance(i: InstanceModel): R5.ImagingStudySeriesInstance {
  return compact<R5.ImagingStudySeriesInstance>({
    uid: i.uid,
    sopClass: { system: RFC3986_SYSTEM, code: oid(i.sopClassUid) },
    number: i.number,
    title: i.title,
  });
}

function r5Series(s: SeriesModel): R5.ImagingStudySeries {
  return compact<R5.ImagingStudySeries>({
    uid: s.uid,
    number: s.number,
    modality: s.modality ? termConcept(s.modality) : { extension: absentExtension() },
    description: s.description,
    numberOfInstances: s.numberOfInstances,
    bodySite: s.bodySite ? { concept: termConcept(s.bodySite) } : undefined,
    laterality: s.laterality ? termConcept(s.laterality) : undefined,
    started: s.started,
    performer: performersWithFunction(s),
    instance: nonEmptyArray(s.instances.map(r5Instance)),
  });
}

function toR5(m: StudyModel, options: MappingOptions): R5.ImagingStudy {
  const identifier: Identifier[] = [{ system: DICOM_UID_SYSTEM, value: oid(m.studyUid) }];
  // R5's mapping: the accession is the order's (basedOn), not the study's identifier.
  const acc = options.basedOn === 'accession' ? undefined : accessionWithType(m, 'R5');
  if (acc) identifier.push(acc);
  if (m.studyId) identifier.push({ value: m.studyId });
  return compact<R5.ImagingStudy>({
    resourceType: 'ImagingStudy',
    identifier,
    status: 'available',
    modality: nonEmptyArray(m.modalities.map(termConcept)),
    subject: subjectReference(m, options, true),
    started: m.started,
    basedOn: basedOnReferences(m, options, 'R5'),
    referrer: m.referrer ? display(m.referrer) : undefined,
    endpoint: endpointRefs(options),
    numberOfSeries: m.numberOfSeries,
    numberOfInstances: m.numberOfInstances,
    procedure: nonEmptyArray(m.procedureCodes.map((concept) => ({ concept }))),
    location: locationReference(m),
    reason: m.reason ? [{ concept: m.reason }] : undefined,
    description: m.description,
    series: nonEmptyArray(m.series.map(r5Series)),
  });
}

// ---------------------------------------------------------------------------
// STU3 (3.0.x)

function stu3Instance(i: InstanceModel): STU3.ImagingStudySeriesInstance {
  return compact<STU3.ImagingStudySeriesInstance>({
    uid: oid(i.uid),
    number: i.number,
    sopClass: oid(i.sopClassUid),
    title: i.title,
  });
}

function stu3Series(s: SeriesModel): STU3.ImagingStudySeries {
  return compact<STU3.ImagingStudySeries>({
    uid: oid(s.uid),
    number: s.number,
    modality: s.modality ? termCoding(s.modality) : absentCoding(),
    description: s.description,
    numberOfInstances: s.numberOfInstances,
    bodySite: s.bodySite ? termCoding(s.bodySite) : undefined,
    laterality: s.laterality ? termCoding(s.laterality) : undefined,
    started: s.started,
    performer: nonEmptyArray(s.performers.map(display)),
    instance: nonEmptyArray(s.instances.map(stu3Instance)),
  });
}

function toStu3(m: StudyModel, options: MappingOptions): STU3.ImagingStudy {
  return compact<STU3.ImagingStudy>({
    resourceType: 'ImagingStudy',
    uid: oid(m.studyUid),
    accession: accessionWithType(m, 'STU3'),
    identifier: m.studyId ? [{ value: m.studyId }] : undefined,
    availability: options.availability ?? 'ONLINE',
    modalityList: nonEmptyArray(acquisitionModalities(m).map(termCoding)),
    patient: subjectReference(m, options, false),
    started: m.started,
    basedOn: basedOnReferences(m, options, 'STU3'),
    referrer: m.referrer ? display(m.referrer) : undefined,
    interpreter: nonEmptyArray(m.interpreters.map(display)),
    endpoint: endpointRefs(options),
    numberOfSeries: m.numberOfSeries,
    numberOfInstances: m.numberOfInstances,
    procedureCode: nonEmptyArray(m.procedureCodes),
    reason: m.reason,
    description: m.description,
    series: nonEmptyArray(m.series.map(stu3Series)),
  });
}

// ---------------------------------------------------------------------------

export function mapImagingStudy(state: StudyState, options: MappingOptions & { fhirVersion: 'R4' }): R4.ImagingStudy;
export function mapImagingStudy(state: StudyState, options: MappingOptions & { fhirVersion: 'R5' }): R5.ImagingStudy;
export function mapImagingStudy(state: StudyState, options: MappingOptions & { fhirVersion: 'STU3' }): STU3.ImagingStudy;
export function mapImagingStudy(state: StudyState, options: MappingOptions): ImagingStudyResource;
export function mapImagingStudy(state: StudyState, options: MappingOptions): ImagingStudyResource {
  const model = buildStudyModel(state, options);
  // A study left without instances by IHE IOCM rejection notes: R4/R5 status by the reason of the
  // latest note (emptyStudyStatus); STU3 has no status: availability UNAVAILABLE.
  const rejected = state.rejection && model.numberOfInstances === 0 ? state.rejection.reason : undefined;
  switch (options.fhirVersion) {
    case 'R5': {
      const resource = toR5(model, options);
      if (rejected) resource.status = emptyStudyStatus(rejected);
      return resource;
    }
    case 'STU3': {
      const resource = toStu3(model, options);
      if (rejected) resource.availability = 'UNAVAILABLE';
      return resource;
    }
    case 'R4':
    default: {
      const resource = toR4(model, options);
      if (rejected) resource.status = emptyStudyStatus(rejected);
      return resource;
    }
  }
}
