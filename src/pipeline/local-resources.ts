import { mapEndpoint } from '../fhir/map-endpoint.js';
import { patientIdentifier } from '../fhir/map-imaging-study.js';
import { mapPatient } from '../fhir/map-patient.js';
import type { MappingOptions } from '../fhir/mapping-options.js';
import type { FhirResource } from './resource-index.js';
import { endpointId, imagingStudyId, patientId } from './resource-ids.js';
import type { StudyState } from './study-state.js';

type Resource = FhirResource;

/**
 * The resources of one study as the built-in FHIR endpoint serves them:
 * the ImagingStudy, its Patient and its Endpoint, with deterministic ids and
 * references between them (the endpoint answers reads of all three).
 */
export function localResources(
  state: StudyState,
  options: MappingOptions,
  map: (state: StudyState, options: MappingOptions) => object,
  dicomWebBaseUrl: string | undefined,
): Resource[] {
  const identifier = patientIdentifier(state, options);
  const patient = identifier ? { ...(mapPatient(state, options) as unknown as Resource), id: patientId(identifier) } : undefined;
  const endpoint = dicomWebBaseUrl
    ? { ...(mapEndpoint(dicomWebBaseUrl, options.fhirVersion) as unknown as Resource), id: endpointId(dicomWebBaseUrl) }
    : undefined;
  const study = {
    ...(map(state, {
      ...options,
      ...(patient ? { patientReference: `Patient/${patient.id}` } : {}),
      ...(endpoint ? { endpointReference: `Endpoint/${endpoint.id}` } : {}),
    }) as Resource),
    id: imagingStudyId(state.studyInstanceUid),
  };
  return [study, ...(patient ? [patient] : []), ...(endpoint ? [endpoint] : [])];
}
