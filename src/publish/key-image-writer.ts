import type { FhirClient } from '../fhir-client/fhir-client.js';
import { keyImageWrites } from '../fhir/key-image-writes.js';
import type { R4KeyImages } from '../fhir/map-key-images.js';
import type { MappingOptions } from '../fhir/mapping-options.js';
import type { StudyState } from '../dicom/study-state.js';

/**
 * Upserts the key-image resources of the study's KOS (key-image-writes.ts)
 * after its ImagingStudy: one conditional update `PUT <type>?<query>` each
 * (idempotent: keyed by the KOS SOP Instance UID, plus the series UID where
 * there is one resource per series). `ImagingStudy/<id>` of the write is
 * their derivedFrom / imagingStudy. A failure rejects like a failed
 * ImagingStudy write (retryable: the study stays pending). Returns how many.
 */
export async function writeKeyImages(
  client: FhirClient,
  state: StudyState,
  options: MappingOptions,
  settings: { keyImages: R4KeyImages; imagingStudyId: string | undefined },
): Promise<number> {
  const writes = keyImageWrites(state, options, {
    keyImages: settings.keyImages,
    ...(settings.imagingStudyId !== undefined ? { imagingStudyReference: `ImagingStudy/${settings.imagingStudyId}` } : {}),
  });
  for (const w of writes) await client.conditionalUpdate(w.resourceType, w.query, w.resource);
  return writes.length;
}
