/** Public surface of the DICOM → FHIR mapping (pure functions, no I/O). */
export type { FhirVersion, MappingOptions } from './mapping-options.js';
export {
  conditionalUpdateQuery,
  mapImagingStudy,
  patientIdentifier,
  studyIdentifierQuery,
  type ImagingStudyOf,
  type ImagingStudyResource,
  type R4ImagingStudyResource,
  type R5ImagingStudyResource,
  type STU3ImagingStudyResource,
  type StudyMapper,
} from './map-imaging-study.js';
export { mapPatient, type PatientResource } from './map-patient.js';
export { endpointAddress, endpointIdentifierQuery, mapEndpoint, type EndpointResource } from './map-endpoint.js';
export { mapKeyImageSelections, type KeyImageResource, type KeyImageSelection } from './map-key-images.js';
export { localResources, type StudyResource } from './study-resources.js';
export { CONFORMANCE, renderConformanceMarkdown } from './conformance.js';
export type { BridgeResource, Bundle, FhirResource, OperationOutcome, R4Resource, R5Resource, ResourceOf, STU3Resource } from './types/index.js';
