import type { FhirResource } from '../fhir-client/fhir-client.js';

/** The matches (not includes or outcomes) of a searchset Bundle. */
export function matchesOf(bundle: FhirResource | undefined, resourceType: string): FhirResource[] {
  const entries = Array.isArray(bundle?.entry) ? (bundle.entry as { resource?: FhirResource; search?: { mode?: string } }[]) : [];
  return entries
    .filter((e) => e.resource?.resourceType === resourceType && (e.search?.mode === undefined || e.search.mode === 'match'))
    .map((e) => e.resource!);
}
