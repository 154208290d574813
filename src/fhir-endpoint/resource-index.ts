/**
 * The index of generated FHIR resources that the built-in read-only FHIR
 * endpoint answers from (handler.ts). The publisher feeds it after
 * mapping (`put`); the endpoint reads and searches it. Implementations:
 * SQLite (sqlite-resource-index.ts; the bridge runs it in a worker thread,
 * remote-resource-index.ts), Redis (redis/). Index terms come from the
 * resource JSON (index-terms.ts), per FHIR version.
 */
import type { FhirVersion } from '../fhir/mapping-options.js';
import type { FhirResource } from '../fhir/types/resource.js';

export type { FhirResource };

/** FHIR date search prefixes (search.html "Prefixes"). */
export type DatePrefix = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'sa' | 'eb';

/**
 * One way of matching, on one index parameter (see index-terms.ts for the
 * parameter names and what each holds).
 * - token: `system` undefined = any system, null = no system; `code`
 *   undefined = any code (the `system|` form). References are tokens with
 *   no system and code `Type/id`.
 * - date: the search value's range [low, high) in epoch ms, compared with
 *   the indexed ranges by the prefix's rule (search.html, date).
 * - chain: the reference in `param` points to a `target.resourceType`
 *   resource in the index whose `target.param` token matches.
 * - id: the resource's logical id.
 */
export type SearchMatch =
  | { kind: 'token'; param: string; system?: string | null; code?: string }
  | { kind: 'date'; param: string; prefix: DatePrefix; low: number; high: number }
  | { kind: 'chain'; param: string; target: { resourceType: string; param: string; system?: string | null; code?: string } }
  | { kind: 'id'; id: string };

export interface SearchSort {
  /** `started` (the sort key: low end of `started`) or `_id`. */
  param: 'started' | '_id';
  descending: boolean;
}

/** A parsed search: AND over `where`, OR within each inner list. */
export interface ParsedSearch {
  where: SearchMatch[][];
  /** Default: by id. Resources without `started` sort last either way. */
  sort: SearchSort[];
  /** Page size (0: none, total only). */
  count: number;
  offset: number;
}

export interface SearchResult {
  /** All matches, regardless of count/offset. */
  total: number;
  /** The page: `count` resources from `offset`. */
  resources: FhirResource[];
}

export interface ResourceIndex {
  /** Stores each resource (its JSON and index terms), replacing what was there for its type and id, atomically. */
  put(resources: FhirResource[]): Promise<void>;
  remove(resourceType: string, id: string): Promise<void>;
  read(resourceType: string, id: string): Promise<FhirResource | undefined>;
  search(resourceType: string, query: ParsedSearch): Promise<SearchResult>;
  close(): Promise<void>;
}

export interface ResourceIndexOptions {
  /** The FHIR version of the resources put (their element names). */
  fhirVersion: FhirVersion;
  /** IANA zone for dates and dateTimes without an offset (the configured site timezone); default UTC. */
  timezone?: string;
}
