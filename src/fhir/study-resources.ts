import { mapEndpoint } from './map-endpoint.js';
import { patientIdentifier } from './map-imaging-study.js';
import { mapPatient } from './map-patient.js';
import type { R4KeyImages } from './map-key-images.js';
import type { MappingOptions } from './mapping-options.js';
import { keyImageWrites } from './key-image-writes.js';
import type { FhirResource } from './types/resource.js';
import { endpointId, imagingStudyId, patientId } from './resource-ids.js';
import type { StudyState } from '../dicom/study-state.js';

type Resource = FhirResource;

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
  map: (state: StudyState, options: MappingOptions) => object,
  dicomWebBaseUrl: string | undefined,
  keyImages: R4KeyImages = 'off',
): Resource[] {
  const identifier = patientIdentifier(state, options);
  const patient = identifier ? { ...(mapPatient(state, options) as unknown as Resource), id: patientId(identifier) } : undefined;
  const endpoint = dicomWebBaseUrl
    ? { ...(mapEndpoint(dicomWebBaseUrl, options.fhirVersion) as unknown as Resource), id: endpointId(dicomWebBaseUrl) }
    : undefined;
  const referenced: MappingOptions = {
    ...options,
    ...(patient ? { patientReference: `Patient/${patient.id}` } : {}),
    ...(endpoint ? { endpointReference: `Endpoint/${endpoint.id}` } : {}),
  };
  const study = { ...(map(state, referenced) as Resource), id: imagingStudyId(state.studyInstanceUid) };
  const keyImageResources = keyImageWrites(state, referenced, { keyImages, imagingStudyReference: `ImagingStudy/${study.id}` }).map(
    (w) => ({ ...w.resource, id: w.id }),
  );
  return [study, ...(patient ? [patient] : []), ...(endpoint ? [endpoint] : []), ...keyImageResources];
}
