import type { StudyState } from '../dicom/study-state.js';
import { keyImageWrites } from './key-image-writes.js';
import { mapEndpoint, type EndpointResource } from './map-endpoint.js';
import { patientIdentifier, type ImagingStudyResource, type StudyMapper } from './map-imaging-study.js';
import type { KeyImageResource, R4KeyImages } from './map-key-images.js';
import { mapPatient, type PatientResource } from './map-patient.js';
import type { MappingOptions } from './mapping-options.js';
import { endpointId, imagingStudyId, patientId } from './resource-ids.js';

/** One resource of a study's set, with its deterministic id. */
export type StudyResource = (ImagingStudyResource | PatientResource | EndpointResource | KeyImageResource) & { id: string };

/**
 * The resources of one study as the built-in FHIR endpoint serves them:
 * the ImagingStudy, its Patient and its Endpoint, and the key-image resources
 * of its Key Object Selection Documents (R5 ImagingSelection, STU3
 * ImagingManifest, R4 Basic with `keyImages: 'extensions'`), with
 * deterministic ids and references between them (the endpoint answers reads
 * of all of them).
 */
export function localResources(
  state: StudyState,
  options: MappingOptions,
  map: StudyMapper,
  dicomWebBaseUrl: string | undefined,
  keyImages: R4KeyImages = 'off',
): StudyResource[] {
  const identifier = patientIdentifier(state, options);
  const patient = identifier ? { ...mapPatient(state, options), id: patientId(identifier) } : undefined;
  const endpoint = dicomWebBaseUrl ? { ...mapEndpoint(dicomWebBaseUrl, options.fhirVersion), id: endpointId(dicomWebBaseUrl) } : undefined;
  const referenced: MappingOptions = {
    ...options,
    ...(patient ? { patientReference: `Patient/${patient.id}` } : {}),
    ...(endpoint ? { endpointReference: `Endpoint/${endpoint.id}` } : {}),
  };
  const study = { ...map(state, referenced), id: imagingStudyId(state.studyInstanceUid) };
  const keyImageResources = keyImageWrites(state, referenced, { keyImages, imagingStudyReference: `ImagingStudy/${study.id}` }).map(
    (w) => ({ ...w.resource, id: w.id }),
  );
  return [study, ...(patient ? [patient] : []), ...(endpoint ? [endpoint] : []), ...keyImageResources];
}
