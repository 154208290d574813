/**
 * MadoImagingStudy (profiles/ImagingStudy-MADO.fsh) of the shared study: the
 * bridge's R4 ImagingStudy mapping of the shared instances, with MADO's
 * additions. Pure.
 *
 * - identifier[study-instance-uid]: type DCM 110180 (MadoStudyInstanceUidIdentifier);
 * - basedOn[order]: the accession as MadoAccessionNumberIdentifier, type
 *   ServiceRequest, referring to the manifest's MadoRequestedProcedure;
 * - extension[anatomical-region]: the regions of the series' body parts;
 * - endpoint[webviewer]: the MadoWebViewerEndpoint, when there is one;
 * - procedureCode under mado-reqproc-1 (procedure.ts);
 * - every series: endpoint[wado] → the MadoWadoEndpoint;
 * - every instance: extension[number-of-frames] from (0028,0008);
 *   a Key Object Selection Document: extension[ko-document-title] (its
 *   title, CID 7010) and title = its Key Object Description (113012) when it has one.
 */
import { KEY_OBJECT_SELECTION_SOP_CLASS } from '../../dicom/key-object-document.js';
import type { InstanceAttributes } from '../../dicom/instance-record.js';
import type { StudyState } from '../../dicom/study-state.js';
import { codedEntryToConcept } from '../coding.js';
import { mapImagingStudy } from '../map-imaging-study.js';
import type { StudyModel } from '../study-model.js';
import { DICOM_UID_SYSTEM } from '../systems.js';
import { MADO_EXTENSION, MADO_PROFILE } from './canonicals.js';
import { studyInstanceUidIdentifier } from './identifiers.js';
import type { ManifestOptions } from './options.js';
import { procedureCodes } from './procedure.js';
import type { Coding, Extension, Identifier, ImagingStudy } from './r4-types.js';

type Series = NonNullable<ImagingStudy['series']>[number];
type Instance = NonNullable<Series['instance']>[number];

export interface ImagingStudyRefs {
  patient: string;
  wadoEndpoint: string;
  webViewer?: string | undefined;
  requestedProcedure?: string | undefined;
}

function instanceOf(i: Instance, attributes: InstanceAttributes | undefined, state: StudyState): Instance {
  const extension: Extension[] = [];
  if (attributes?.numberOfFrames !== undefined && Number.isInteger(attributes.numberOfFrames) && attributes.numberOfFrames > 0) {
    extension.push({ url: MADO_EXTENSION.numberOfFrames, valueInteger: attributes.numberOfFrames });
  }
  let title = i.title;
  if (attributes?.sopClassUid.trim() === KEY_OBJECT_SELECTION_SOP_CLASS) {
    const kos = state.keyObjects?.find((k) => k.sopInstanceUid === i.uid)?.document;
    const concept = codedEntryToConcept(kos?.title ?? attributes.conceptNameCode ?? { codeValue: '' });
    if (concept) extension.push({ url: MADO_EXTENSION.keyObjectDocumentTitle, valueCodeableConcept: concept });
    if (kos?.description) title = kos.description;
  }
  return {
    ...(extension.length ? { extension } : {}),
    uid: i.uid,
    sopClass: i.sopClass,
    ...(i.number !== undefined ? { number: i.number } : {}),
    ...(title !== undefined ? { title } : {}),
  };
}

function seriesOf(s: Series, instances: Map<string, InstanceAttributes>, state: StudyState, wado: string): Series {
  return {
    uid: s.uid,
    ...(s.number !== undefined ? { number: s.number } : {}),
    modality: s.modality,
    ...(s.description !== undefined ? { description: s.description } : {}),
    numberOfInstances: s.numberOfInstances ?? 0,
    endpoint: [{ reference: wado }],
    ...(s.bodySite ? { bodySite: s.bodySite } : {}),
    ...(s.laterality ? { laterality: s.laterality } : {}),
    ...(s.started ? { started: s.started } : {}),
    ...(s.performer ? { performer: s.performer } : {}),
    instance: (s.instance ?? []).map((i) => instanceOf(i, instances.get(i.uid), state)),
  };
}

export function madoImagingStudy(
  shared: StudyState,
  model: StudyModel,
  options: ManifestOptions,
  refs: ImagingStudyRefs,
  accession: Identifier | undefined,
  regions: readonly Coding[],
): ImagingStudy {
  const { endpointReference: _endpoint, ...mapping } = options.mapping;
  const base = mapImagingStudy(shared, { ...mapping, fhirVersion: 'R4', basedOn: 'off', patientReference: refs.patient });
  const instances = new Map(shared.series.flatMap((s) => s.instances.map((i) => [i.sopInstanceUid, i] as const)));
  const identifier = (base.identifier ?? []).map((i) => (i.system === DICOM_UID_SYSTEM ? studyInstanceUidIdentifier(model.studyUid) : i));
  return {
    resourceType: 'ImagingStudy',
    meta: { profile: [MADO_PROFILE.imagingStudy] },
    ...(regions.length ? { extension: regions.map((c) => ({ url: MADO_EXTENSION.anatomicalRegion, valueCodeableConcept: { coding: [c] } })) } : {}),
    identifier,
    status: base.status,
    ...(base.modality ? { modality: base.modality } : {}),
    subject: base.subject,
    ...(base.started ? { started: base.started } : {}),
    ...(accession
      ? {
          basedOn: [
            {
              ...(refs.requestedProcedure ? { reference: refs.requestedProcedure } : {}),
              type: 'ServiceRequest' as const,
              identifier: accession,
              ...(model.requestedProcedureDisplay ? { display: model.requestedProcedureDisplay } : {}),
            },
          ],
        }
      : {}),
    ...(base.referrer ? { referrer: base.referrer } : {}),
    ...(base.interpreter ? { interpreter: base.interpreter } : {}),
    ...(refs.webViewer ? { endpoint: [{ reference: refs.webViewer }] } : {}),
    numberOfSeries: base.numberOfSeries ?? 0,
    numberOfInstances: base.numberOfInstances ?? 0,
    procedureCode: procedureCodes(shared, model),
    ...(base.reasonCode ? { reasonCode: base.reasonCode } : {}),
    ...(base.description ? { description: base.description } : {}),
    series: (base.series ?? []).map((s) => seriesOf(s, instances, shared, refs.wadoEndpoint)),
  };
}
