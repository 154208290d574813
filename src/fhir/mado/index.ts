/** Public surface of the IHE RAD MADO manifest mapping (pure functions, no I/O). */
export { MADO_CANONICAL, MADO_EXTENSION, MADO_FHIR_MANIFEST_FORMAT, MADO_PROFILE, MADO_SEARCH_PARAMETER, XVER_DOCUMENT_REFERENCE } from './canonicals.js';
export { manifestDocumentReference, type EnvelopeInput } from './document-reference.js';
export { fillViewerTemplate, NOT_SPECIFIED_ADDRESS, templatePlaceholders, VIEWER_PLACEHOLDERS } from './endpoints.js';
export { manifestIdentifier, manifestIdentifierToken } from './identifiers.js';
export { localManifestResources } from './local-resources.js';
export { mapManifest, type Manifest, type ManifestSummary } from './manifest.js';
export { manifestUid, retrieveLocationUidOf } from './manifest-uid.js';
export type { CodingOption, ManifestCreator, ManifestOptions } from './options.js';
export type { DocumentReference, ManifestBundle } from './r4-types.js';
export { sharedState, type SharingRules } from './sharing-rules.js';
