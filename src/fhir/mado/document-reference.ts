/**
 * The MHD envelope of the manifest: MadoFhirDocumentReference
 * (mhd/MHD-documentreference.fsh, parent IHE.MHD.Minimal.DocumentReference).
 * Pure.
 *
 * - masterIdentifier = the manifest UID, repeated in identifier (mado-docref-1);
 * - status current (entered-in-error for a study emptied by IOCM rejection);
 * - type and category LOINC 18748-4; subject the study's Patient; date the manifest's time;
 * - author[source-device], author[source-organization]: the creator Device and
 *   Organization, contained (they exist only inside the manifest Bundle;
 *   MHD Minimal forbids custodian);
 * - extensions (R5 cross-version): modality (1..1, every modality of the
 *   shared series as codings of the one concept) and bodySite.concept (the
 *   anatomical regions, when known);
 * - content[0]: attachment application/fhir+json, the Bundle's URL, language
 *   of its narrative (en), creation; format urn:ihe:rad:MADO:fhir-manifest:2026;
 *   the content.profile extension naming MadoFhirBundle;
 * - context: event (the procedure codes), period (study start; end = the
 *   latest series start), facilityType and practiceSetting (configured),
 *   related: the Study Instance UID (DCM 110180) and the accession (DCM 121022).
 */
import { DATA_ABSENT_REASON_URL } from '../systems.js';
import {
  DIAGNOSTIC_IMAGING_STUDY,
  IHE_FORMAT_CODE_SYSTEM,
  MADO_FHIR_MANIFEST_FORMAT,
  MADO_PROFILE,
  XVER_DOCUMENT_REFERENCE,
} from './canonicals.js';
import { creatorDevice, creatorOrganization } from './creator.js';
import { manifestIdentifier, studyInstanceUidIdentifier } from './identifiers.js';
import type { ManifestSummary } from './manifest.js';
import type { CodingOption, ManifestOptions } from './options.js';
import type { CodeableConcept, DocumentReference, Extension, PatientReference, Reference } from './r4-types.js';

export interface EnvelopeInput {
  summary: ManifestSummary;
  /** content[0].attachment.url: where the manifest Bundle is read. */
  bundleUrl: string;
  /** The Patient as the target server knows it (else summary.logicalSubject). */
  subject?: PatientReference | undefined;
  /** `ImagingStudy/<id>` of the study's ImagingStudy on the target server, when known. */
  imagingStudyReference?: string | undefined;
  options: Pick<ManifestOptions, 'creator' | 'facilityType' | 'practiceSetting' | 'language'>;
}

const concept = (c: CodingOption): CodeableConcept => ({ coding: [{ system: c.system, code: c.code, ...(c.display ? { display: c.display } : {}) }] });

export function manifestDocumentReference(input: EnvelopeInput): DocumentReference {
  const { summary, options } = input;
  const extension: Extension[] = [
    {
      url: XVER_DOCUMENT_REFERENCE.modality,
      valueCodeableConcept: summary.modalities.length
        ? { coding: summary.modalities.map((m) => ({ ...m })) }
        : { extension: [{ url: DATA_ABSENT_REASON_URL, valueCode: 'unknown' }] },
    },
  ];
  if (summary.regions.length) {
    extension.push({
      url: XVER_DOCUMENT_REFERENCE.bodySite,
      extension: [{ url: 'concept', valueCodeableConcept: { coding: summary.regions.map((r) => ({ ...r })) } }],
    });
  }
  const events = (summary.procedure ?? []).filter((c) => (c.coding ?? []).some((x) => x.code));
  const period = {
    ...(summary.period.start ? { start: summary.period.start } : { _start: { extension: [{ url: DATA_ABSENT_REASON_URL, valueCode: 'unknown' }] } }),
    ...(summary.period.end ? { end: summary.period.end } : {}),
  };
  const related: Reference[] = [
    {
      ...(input.imagingStudyReference ? { reference: input.imagingStudyReference } : {}),
      type: 'ImagingStudy',
      identifier: studyInstanceUidIdentifier(summary.studyInstanceUid),
    },
    ...(summary.accession ? [{ type: 'ServiceRequest' as const, identifier: summary.accession }] : []),
  ];
  const identifier = manifestIdentifier(summary.uid);
  return {
    resourceType: 'DocumentReference',
    meta: { profile: [MADO_PROFILE.documentReference] },
    contained: [
      { ...creatorDevice(options.creator, '#organization'), id: 'creator' },
      { ...creatorOrganization(options.creator), id: 'organization' },
    ],
    extension,
    masterIdentifier: identifier,
    identifier: [{ ...identifier }],
    status: summary.rejected ? 'entered-in-error' : 'current',
    type: { coding: [{ ...DIAGNOSTIC_IMAGING_STUDY }] },
    category: [{ coding: [{ ...DIAGNOSTIC_IMAGING_STUDY }] }],
    subject: input.subject ?? summary.logicalSubject,
    date: summary.createdAt,
    author: [{ reference: '#creator' }, { reference: '#organization' }],
    ...(summary.description ? { description: summary.description } : {}),
    content: [
      {
        extension: [{ url: XVER_DOCUMENT_REFERENCE.contentProfile, extension: [{ url: 'value[x]', valueCanonical: MADO_PROFILE.bundle }] }],
        attachment: {
          contentType: 'application/fhir+json',
          language: options.language ?? 'en',
          url: input.bundleUrl,
          title: 'FHIR Imaging Study Manifest',
          creation: summary.createdAt,
        },
        format: { system: IHE_FORMAT_CODE_SYSTEM, code: MADO_FHIR_MANIFEST_FORMAT, display: 'MADO FHIR Imaging Study Manifest' },
      },
    ],
    context: {
      ...(events.length ? { event: events } : {}),
      period,
      facilityType: concept(options.facilityType),
      practiceSetting: concept(options.practiceSetting),
      related,
    },
  };
}
