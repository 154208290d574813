/**
 * The manifest and its envelope as the built-in FHIR endpoint serves them:
 * `Bundle/<manifest UID>` and `DocumentReference/<manifest UID>` (a UID is a
 * valid FHIR id), the envelope referring to the endpoint's own Patient and
 * ImagingStudy by their deterministic ids (resource-ids.ts), its attachment
 * to the Bundle (relative, or under the endpoint's public base URL). Pure.
 */
import type { StudyState } from '../../dicom/study-state.js';
import { patientIdentifier } from '../map-imaging-study.js';
import { imagingStudyId, patientId } from '../resource-ids.js';
import { manifestDocumentReference } from './document-reference.js';
import { mapManifest } from './manifest.js';
import type { ManifestOptions } from './options.js';
import type { DocumentReference, ManifestBundle } from './r4-types.js';

export function localManifestResources(
  state: StudyState,
  options: ManifestOptions,
  publicBaseUrl?: string,
): [ManifestBundle & { id: string }, DocumentReference & { id: string }] {
  const manifest = mapManifest(state, options);
  const identifier = patientIdentifier(state, options.mapping);
  const bundlePath = `Bundle/${manifest.uid}`;
  const envelope = manifestDocumentReference({
    summary: manifest.summary,
    bundleUrl: publicBaseUrl ? `${publicBaseUrl.replace(/\/+$/, '')}/${bundlePath}` : bundlePath,
    ...(identifier ? { subject: { reference: `Patient/${patientId(identifier)}` } } : {}),
    imagingStudyReference: `ImagingStudy/${imagingStudyId(state.studyInstanceUid)}`,
    options,
  });
  return [
    { ...manifest.bundle, id: manifest.uid },
    { ...envelope, id: manifest.uid },
  ];
}
