/** Public surface of the DICOM → FHIR mapping (pure functions, no I/O). */
export type { FhirVersion, MappingOptions } from './mapping-options.js';
export {
  conditionalUpdateQuery,
  mapImagingStudy,
  patientIdentifier,
  studyIdentifierQuery,
  type ImagingStudyResource,
  type R4ImagingStudyResource,
  type R5ImagingStudyResource,
  type STU3ImagingStudyResource,
} from './map-imaging-study.js';
export { mapPatient, type PatientResource } from './map-patient.js';
export { endpointAddress, endpointIdentifierQuery, mapEndpoint, type EndpointResource } from './map-endpoint.js';
export { CONFORMANCE, renderConformanceMarkdown } from './conformance.js';
