/** The built-in read-only FHIR endpoint (mounted under /fhir). */
export { handleFhirRequest, FHIR_CONTENT_TYPE, FHIR_MOUNT, type FhirAuthorizer, type FhirEndpointDependencies } from './handler.js';
export { capabilityStatement, FHIR_VERSION_NUMBER } from './capability-statement.js';
export {
  DEFAULT_COUNT,
  IMAGING_STUDY_SEARCH_PARAMETERS,
  MAX_COUNT,
  parseImagingStudySearch,
  searchParametersFor,
  SearchParseError,
  type SearchParamDefinition,
  type SearchRequest,
} from './search-parameters.js';
export { searchsetBundle, subsetElements } from './bundle.js';
export type { FhirIndexCondition } from './remote-resource-index.js';
export { FhirError, operationOutcome, type OperationOutcome } from './operation-outcome.js';
