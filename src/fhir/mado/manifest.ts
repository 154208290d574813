/**
 * The MADO FHIR Imaging Study Manifest of a study (profiles/Bundle-Mado.fsh):
 * a `document` Bundle whose identifier is the manifest UID (manifest-uid.ts),
 * with, in this order: MadoComposition, MadoImagingStudy, MadoPatient,
 * MadoWadoEndpoint, MadoWebViewerEndpoint (with VIEWER_URL_TEMPLATE),
 * MadoCreator, MadoCreatorOrganization, MadoRequestedProcedure (with an
 * accession number). Entries refer to each other by their `urn:uuid:`
 * fullUrl, derived from the manifest UID and their role, so the same study
 * gives the same Bundle but for its times. The sharing rules
 * (sharing-rules.ts) decide which instances it lists. Pure.
 */
import type { StudyState } from '../../dicom/study-state.js';
import { mapPatient } from '../map-patient.js';
import { DATA_ABSENT_REASON_URL } from '../systems.js';
import { buildStudyModel } from '../study-model.js';
import { anatomicalRegions } from './anatomical-regions.js';
import { MADO_PROFILE } from './canonicals.js';
import { composition } from './composition.js';
import { creatorDevice, creatorOrganization } from './creator.js';
import { fillViewerTemplate, wadoEndpoint, webViewerEndpoint } from './endpoints.js';
import { accessionNumberIdentifier, manifestIdentifier } from './identifiers.js';
import { madoImagingStudy } from './imaging-study.js';
import { entryUrn, manifestUid } from './manifest-uid.js';
import type { ManifestOptions } from './options.js';
import type { BundleEntry, Coding, Identifier, ImagingStudy, ManifestBundle, Patient, PatientReference } from './r4-types.js';
import { requestedProcedure } from './requested-procedure.js';
import { excludedCount, sharedState } from './sharing-rules.js';

/** What the DocumentReference (the MHD envelope) says of the manifest. */
export interface ManifestSummary {
  uid: string;
  studyInstanceUid: string;
  createdAt: string;
  accession?: Identifier | undefined;
  modalities: Coding[];
  regions: Coding[];
  /** Study started, else the earliest series; end: the latest series start after it. */
  period: { start?: string; end?: string };
  procedure: ImagingStudy['procedureCode'];
  description?: string | undefined;
  /** The study emptied by IOCM rejection: the envelope says entered-in-error. */
  rejected: boolean;
  /** ImagingStudy.subject without a resolved Patient: a logical reference by the patient identifier. */
  logicalSubject: PatientReference;
}

export interface Manifest {
  uid: string;
  bundle: ManifestBundle;
  summary: ManifestSummary;
  /** Instances the sharing rules kept out. */
  excluded: number;
}

const byTime = (a: string, b: string): number => Date.parse(a) - Date.parse(b);

function periodOf(study: ImagingStudy): ManifestSummary['period'] {
  const starts = (study.series ?? []).map((s) => s.started).filter((s): s is string => !!s && !Number.isNaN(Date.parse(s))).sort(byTime);
  const start = study.started ?? starts[0];
  const last = starts[starts.length - 1];
  return { ...(start ? { start } : {}), ...(start && last && byTime(last, start) > 0 ? { end: last } : {}) };
}

export function mapManifest(state: StudyState, options: ManifestOptions): Manifest {
  const mapping = { ...options.mapping, fhirVersion: 'R4' as const };
  let shared = sharedState(state, options.sharing);
  // An old rejection note must not make a study whose instances are all kept out look rejected.
  if (shared.rejection && shared.series.length === 0 && state.series.length > 0) {
    const { rejection: _r, ...rest } = shared;
    shared = rest;
  }
  const model = buildStudyModel(shared, mapping);
  const uid = manifestUid(state.studyInstanceUid);
  const urn = (role: string) => entryUrn(uid, role);
  const refs = {
    composition: urn('composition'),
    imagingStudy: urn('imaging-study'),
    patient: urn('patient'),
    wadoEndpoint: urn('wado-endpoint'),
    webViewer: urn('web-endpoint'),
    device: urn('creator'),
    organization: urn('creator-organization'),
    requestedProcedure: urn('requested-procedure'),
  };

  const patient: Patient = { ...mapPatient(state, mapping), meta: { profile: [MADO_PROFILE.patient] } };
  const accession = accessionNumberIdentifier(model, options.accessionSystem);
  const viewerAddress = options.viewerUrlTemplate
    ? fillViewerTemplate(options.viewerUrlTemplate, {
        studyUid: model.studyUid,
        ...(model.accession?.value ? { accession: model.accession.value } : {}),
        ...(state.patient.patientId ? { patientId: state.patient.patientId } : {}),
      })
    : undefined;
  const regions = anatomicalRegions(shared);
  const study = madoImagingStudy(
    shared,
    model,
    options,
    {
      patient: refs.patient,
      wadoEndpoint: refs.wadoEndpoint,
      webViewer: viewerAddress ? refs.webViewer : undefined,
      requestedProcedure: accession ? refs.requestedProcedure : undefined,
    },
    accession,
    regions,
  );
  const comp = composition({
    uid,
    createdAt: options.createdAt,
    study,
    studyInstanceUid: model.studyUid,
    accession: accession?.value,
    regions: regions.map((r) => r.display ?? r.code ?? ''),
    refs: { patient: refs.patient, device: refs.device, organization: refs.organization, imagingStudy: refs.imagingStudy },
  });

  const entry: BundleEntry[] = [
    { fullUrl: refs.composition, resource: comp },
    { fullUrl: refs.imagingStudy, resource: study },
    { fullUrl: refs.patient, resource: patient },
    { fullUrl: refs.wadoEndpoint, resource: wadoEndpoint(options.dicomWebBaseUrl, options.retrieveLocationUid) },
    ...(viewerAddress ? [{ fullUrl: refs.webViewer, resource: webViewerEndpoint(viewerAddress) }] : []),
    { fullUrl: refs.device, resource: creatorDevice(options.creator, refs.organization) },
    { fullUrl: refs.organization, resource: creatorOrganization(options.creator) },
    ...(accession ? [{ fullUrl: refs.requestedProcedure, resource: requestedProcedure(shared, accession, { reference: refs.patient }) }] : []),
  ];
  const bundle: ManifestBundle = {
    resourceType: 'Bundle',
    meta: { profile: [MADO_PROFILE.bundle] },
    identifier: manifestIdentifier(uid),
    type: 'document',
    timestamp: options.createdAt,
    entry,
  };

  const identifier = model.patient ? { system: model.patient.system, value: model.patient.value } : undefined;
  const logicalSubject: PatientReference = identifier
    ? { type: 'Patient', identifier, ...(model.patientDisplay ? { display: model.patientDisplay } : {}) }
    : model.patientDisplay
      ? { display: model.patientDisplay }
      : { extension: [{ url: DATA_ABSENT_REASON_URL, valueCode: 'unknown' }] };
  return {
    uid,
    bundle,
    excluded: excludedCount(state, shared),
    summary: {
      uid,
      studyInstanceUid: model.studyUid,
      createdAt: options.createdAt,
      accession,
      // Every modality of the shared series (the envelope's modality, 1..1), not only
      // the acquisition modalities ImagingStudy.modality lists in R4 (CID 29).
      modalities: seriesModalities(study),
      regions,
      period: periodOf(study),
      procedure: study.procedureCode,
      description: model.description,
      rejected: shared.rejection !== undefined && model.numberOfInstances === 0,
      logicalSubject,
    },
  };
}

/** The distinct modality codings of the study's series, in series order. */
function seriesModalities(study: { series?: Array<{ modality?: Coding }> }): Coding[] {
  const seen = new Map<string, Coding>();
  for (const series of study.series ?? []) {
    const m = series.modality;
    if (m?.code !== undefined && !seen.has(`${m.system ?? ''}|${m.code}`)) seen.set(`${m.system ?? ''}|${m.code}`, m);
  }
  return [...seen.values()];
}
