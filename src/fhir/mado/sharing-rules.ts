/**
 * The sharing rules (MANIFEST_EXCLUDE_SOP_CLASSES, MANIFEST_EXCLUDE_SERIES_DESCRIPTION):
 * which instances stay out of the shared manifest. They change the manifest
 * only; the ImagingStudy the bridge publishes keeps every instance. A series
 * left without instances is left out whole. Pure.
 */
import type { StudyState } from '../../dicom/study-state.js';

export interface SharingRules {
  /** SOP Class UIDs kept out (e.g. 1.2.840.10008.5.1.4.1.1.88.33 Comprehensive SR). */
  excludeSopClasses: readonly string[];
  /** A JavaScript regular expression, matched case-insensitively against (0008,103E) Series Description. */
  excludeSeriesDescription?: string | undefined;
}

/** The study as the manifest shares it. */
export function sharedState(state: StudyState, rules: SharingRules): StudyState {
  const sopClasses = new Set(rules.excludeSopClasses.map((u) => u.trim()));
  const description = rules.excludeSeriesDescription ? new RegExp(rules.excludeSeriesDescription, 'i') : undefined;
  const keptSops = new Set<string>();
  const series = state.series.flatMap((s) => {
    const text = s.attributes.seriesDescription;
    if (description && text !== undefined && description.test(text)) return [];
    const instances = s.instances.filter((i) => !sopClasses.has(i.sopClassUid.trim()));
    for (const i of instances) keptSops.add(i.sopInstanceUid);
    return instances.length > 0 ? [{ ...s, instances }] : [];
  });
  const shared: StudyState = { ...state, series };
  if (state.keyObjects) {
    const keyObjects = state.keyObjects.filter((k) => keptSops.has(k.sopInstanceUid));
    if (keyObjects.length > 0) shared.keyObjects = keyObjects;
    else delete shared.keyObjects;
  }
  return shared;
}

/** How many instances the rules kept out (for the publish log line). */
export function excludedCount(state: StudyState, shared: StudyState): number {
  const count = (s: StudyState) => s.series.reduce((n, x) => n + x.instances.length, 0);
  return count(state) - count(shared);
}
