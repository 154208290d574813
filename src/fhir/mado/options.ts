/** What the manifest mapping needs beside the study (configuration `manifest:`, see config/schema.ts). */
import type { MappingOptions } from '../mapping-options.js';
import type { SharingRules } from './sharing-rules.js';

export interface CodingOption {
  system: string;
  code: string;
  display?: string;
}

export interface ManifestCreator {
  /** MadoCreatorOrganization.name: the organization that creates (and shares) the manifests. */
  organizationName: string;
  /** MadoCreatorOrganization.identifier, when the site has one. */
  organizationIdentifier?: { system: string; value: string } | undefined;
  /** MadoCreator.manufacturer (default: this software's name). */
  manufacturer: string;
  /** MadoCreator.deviceName and version: this software. */
  softwareName: string;
  softwareVersion?: string | undefined;
}

export interface ManifestOptions {
  /** The study's mapping options (patient identifier system, timezone, ...); FHIR R4. */
  mapping: MappingOptions;
  /** When the manifest is made (Bundle.timestamp, Composition.date, DocumentReference.date): an instant. */
  createdAt: string;
  sharing: SharingRules;
  /** WADO-RS base URL (DICOMWEB_BASE_URL); unset: the profile's placeholder with data-absent-reason. */
  dicomWebBaseUrl?: string | undefined;
  /** Retrieve Location UID (0040,E011) of the WADO-RS service; default derived from its address. */
  retrieveLocationUid?: string | undefined;
  /** Web viewer URL with {studyUid}, {accession}, {patientId} (VIEWER_URL_TEMPLATE). */
  viewerUrlTemplate?: string | undefined;
  creator: ManifestCreator;
  /** Identifier system of the accession number when (0008,0051) gives none (MadoAccessionNumberIdentifier.system 1..1). */
  accessionSystem: string;
  /** DocumentReference.context.facilityType and practiceSetting (MHD, 1..1 in MADO). */
  facilityType: CodingOption;
  practiceSetting: CodingOption;
  /** Attachment.language of the DocumentReference: the language of the manifest's narrative (English). */
  language?: string;
}
