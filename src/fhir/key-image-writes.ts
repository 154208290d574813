/**
 * The key-image resources of a study's Key Object Selection Documents, as the
 * publisher writes them: pure, from a StudyState to a list of upserts.
 *
 * One entry per resource of mapKeyImageSelections (map-key-images.ts) for
 * every non-rejection KOS of `state.keyObjects`: R5 ImagingSelection and R4
 * Basic (keyImages 'extensions') one per referenced series, STU3
 * ImagingManifest one per KOS, R4 with keyImages 'off' nothing. Each comes
 * with the query of its conditional update (`PUT <type>?<query>`, keyed by
 * the KOS SOP Instance UID plus the series UID where there is one per series)
 * and the deterministic id the built-in FHIR endpoint serves it under
 * (resource-ids.ts keyImageId). The resource itself carries no id: a
 * conditional update lets the server choose it.
 */
import {
  keyImageConditionalQuery,
  keyImageResourceType,
  mapKeyImageSelections,
  type KeyImageContext,
  type KeyImageResource,
  type R4KeyImages,
} from './map-key-images.js';
import type { MappingOptions } from './mapping-options.js';
import { keyImageId } from './resource-ids.js';
import type { StudyState } from '../dicom/study-state.js';

export type KeyImageResourceType = 'ImagingSelection' | 'ImagingManifest' | 'Basic';

export interface KeyImageWrite {
  resourceType: KeyImageResourceType;
  /** Search of the conditional update, e.g. `identifier=urn%3Adicom%3Auid%7C…&identifier=…`. */
  query: string;
  /** Deterministic id (local index). */
  id: string;
  kosSopInstanceUid: string;
  /** The referenced series of a per-series resource; undefined for the STU3 manifest. */
  seriesInstanceUid?: string;
  /** Without id. */
  resource: KeyImageResource;
}

export interface KeyImageWriteSettings {
  /** R4 only (fhir.keyImages); default 'off'. */
  keyImages?: R4KeyImages;
  /** Reference to the study's ImagingStudy (`ImagingStudy/<id>`); default a logical reference by Study Instance UID. */
  imagingStudyReference?: string;
}

export function keyImageWrites(state: StudyState, options: MappingOptions, settings: KeyImageWriteSettings = {}): KeyImageWrite[] {
  const keyImages = settings.keyImages ?? 'off';
  const resourceType = keyImageResourceType(options.fhirVersion, keyImages);
  if (resourceType === undefined) return [];
  const out: KeyImageWrite[] = [];
  for (const kos of state.keyObjects ?? []) {
    if (kos.document.isRejection) continue;
    const ctx: KeyImageContext = {
      studyInstanceUid: state.studyInstanceUid,
      seriesInstanceUid: kos.seriesInstanceUid,
      kosSopInstanceUid: kos.sopInstanceUid,
      kosSopClassUid: kos.sopClassUid,
      patient: state.patient,
      keyImages,
      options,
    };
    if (state.study.timezoneOffsetFromUtc !== undefined) ctx.timezoneOffsetFromUtc = state.study.timezoneOffsetFromUtc;
    if (settings.imagingStudyReference !== undefined) ctx.imagingStudyReference = settings.imagingStudyReference;
    for (const { resource, seriesInstanceUid } of mapKeyImageSelections(kos.document, ctx)) {
      out.push({
        resourceType,
        query: keyImageConditionalQuery(kos.sopInstanceUid, options.fhirVersion, seriesInstanceUid),
        id: keyImageId(kos.sopInstanceUid, seriesInstanceUid),
        kosSopInstanceUid: kos.sopInstanceUid,
        ...(seriesInstanceUid !== undefined ? { seriesInstanceUid } : {}),
        resource,
      });
    }
  }
  return out;
}
