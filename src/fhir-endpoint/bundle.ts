/**
 * Searchset Bundles and `_elements` subsetting (search.html "_elements",
 * "_summary"; http.html#search).
 */
import type { FhirVersion } from '../fhir/mapping-options.js';
import { V3_OBSERVATION_VALUE_SYSTEM, V3_OBSERVATION_VALUE_SYSTEM_STU3 } from '../fhir/systems.js';
import type { Bundle, BundleLink } from '../fhir/types/bundle.js';
import type { FhirResource } from './resource-index.js';

/** The SUBSETTED tag: R4/R5 system; STU3 published the same code system at hl7.org/fhir/v3/ObservationValue. */
export function subsettedTag(version: FhirVersion): { system: string; code: string; display: string } {
  return {
    system: version === 'STU3' ? V3_OBSERVATION_VALUE_SYSTEM_STU3 : V3_OBSERVATION_VALUE_SYSTEM,
    code: 'SUBSETTED',
    display: 'subsetted',
  };
}

/** Mandatory (min 1) top-level ImagingStudy elements per version: kept whatever `_elements` says. */
const MANDATORY: Record<FhirVersion, readonly string[]> = {
  R4: ['status', 'subject'],
  R5: ['status', 'subject'],
  STU3: ['uid', 'patient', 'numberOfSeries', 'numberOfInstances'],
};

/** Keeps the listed top-level elements (plus resourceType, id, meta and mandatory ones), tagged SUBSETTED. */
export function subsetElements(resource: FhirResource, elements: readonly string[], version: FhirVersion): FhirResource {
  const keep = new Set(['resourceType', 'id', 'meta', ...elements, ...(resource.resourceType === 'ImagingStudy' ? MANDATORY[version] : [])]);
  const out: FhirResource = { resourceType: resource.resourceType };
  for (const [k, v] of Object.entries(resource)) if (keep.has(k) && k !== 'meta') out[k] = v;
  const meta = (resource.meta ?? {}) as { tag?: unknown[]; [k: string]: unknown };
  // meta right after id, as in the specification's element order.
  const ordered: FhirResource = { resourceType: out.resourceType };
  if (out.id !== undefined) ordered.id = out.id;
  ordered.meta = { ...meta, tag: [...(meta.tag ?? []), subsettedTag(version)] };
  for (const [k, v] of Object.entries(out)) if (k !== 'resourceType' && k !== 'id') ordered[k] = v;
  return ordered;
}

export interface SearchsetInput {
  total: number;
  resources: FhirResource[];
  baseUrl: string;
  selfUrl: string;
  nextUrl?: string;
  previousUrl?: string;
  totalOnly: boolean;
}

export function searchsetBundle(input: SearchsetInput): Bundle {
  const link: BundleLink[] = [{ relation: 'self', url: input.selfUrl }];
  if (input.nextUrl) link.push({ relation: 'next', url: input.nextUrl });
  if (input.previousUrl) link.push({ relation: 'previous', url: input.previousUrl });
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: input.total, link };
  if (!input.totalOnly && input.resources.length) {
    bundle.entry = input.resources.map((resource) => ({
      fullUrl: `${input.baseUrl}/${resource.resourceType}/${resource.id}`,
      resource,
      search: { mode: 'match' },
    }));
  }
  return bundle;
}
