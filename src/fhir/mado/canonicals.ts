/**
 * Every URI of IHE RAD MADO (Manifest-based Access to DICOM Objects, FHIR R4,
 * trial use; canonical https://profiles.ihe.net/RAD/MADO) and of the MHD
 * envelope that the manifest mapping writes, defined once. Profile and
 * extension URLs are `<canonical>/StructureDefinition/<name>` (the FSH names
 * them; SUSHI derives the URL from the name).
 */

export const MADO_CANONICAL = 'https://profiles.ihe.net/RAD/MADO';

const sd = (name: string): string => `${MADO_CANONICAL}/StructureDefinition/${name}`;

/** Profiles of the FHIR Imaging Study Manifest and its envelope (meta.profile of what the bridge writes). */
export const MADO_PROFILE = {
  bundle: sd('MadoFhirBundle'),
  composition: sd('MadoComposition'),
  imagingStudy: sd('MadoImagingStudy'),
  patient: sd('MadoPatient'),
  creator: sd('MadoCreator'),
  creatorOrganization: sd('MadoCreatorOrganization'),
  requestedProcedure: sd('MadoRequestedProcedure'),
  wadoEndpoint: sd('MadoWadoEndpoint'),
  webViewerEndpoint: sd('MadoWebViewerEndpoint'),
  documentReference: sd('MadoFhirDocumentReference'),
} as const;

/** MADO extensions. */
export const MADO_EXTENSION = {
  anatomicalRegion: sd('MadoAnatomicalRegionExtension'),
  numberOfFrames: sd('MadoNumberOfFrames'),
  keyObjectDocumentTitle: sd('MadoKeyObjectDocumentTitle'),
  retrieveLocationUid: sd('MadoRetrieveLocationUIDExtension'),
} as const;

/** MADO code system of device types (terminology/device-types.fsh): `mado-creator`. */
export const MADO_DEVICE_TYPE_SYSTEM = `${MADO_CANONICAL}/CodeSystem/MadoDeviceType`;

/** MADO search parameters on DocumentReference (mhd/SearchParameter-DocumentReference-*.fsh). */
export const MADO_SEARCH_PARAMETER = {
  studyInstanceUid: `${MADO_CANONICAL}/SearchParameter/SearchParameterDocumentReferenceStudyInstanceUid`,
  accessionNumber: `${MADO_CANONICAL}/SearchParameter/SearchParameterDocumentReferenceAccessionNumber`,
  modality: `${MADO_CANONICAL}/SearchParameter/SearchParameterDocumentReferenceModality`,
  anatomicalRegion: `${MADO_CANONICAL}/SearchParameter/SearchParameterDocumentReferenceBodySite`,
} as const;

/** IHE format codes (mhd/MHD-documentreference.fsh: content.format). */
export const IHE_FORMAT_CODE_SYSTEM = 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode';
export const MADO_FHIR_MANIFEST_FORMAT = 'urn:ihe:rad:MADO:fhir-manifest:2026';

/** R5 elements carried in R4 as cross-version extensions (hl7.fhir.uv.xver-r5.r4). */
export const XVER_DOCUMENT_REFERENCE = {
  bodySite: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.bodySite',
  modality: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality',
  contentProfile: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.content.profile',
} as const;

/** LOINC 18748-4 "Diagnostic imaging study": Composition and DocumentReference type and category. */
export const LOINC_SYSTEM = 'http://loinc.org';
export const DIAGNOSTIC_IMAGING_STUDY = { system: LOINC_SYSTEM, code: '18748-4', display: 'Diagnostic imaging study' } as const;

/** DICOM (PS3.16) codes of the identifier types: 110180 Study Instance UID, 121022 Accession Number. */
export const DCM_STUDY_INSTANCE_UID = { code: '110180', display: 'Study Instance UID' } as const;
export const DCM_ACCESSION_NUMBER = { code: '121022', display: 'Accession Number' } as const;
