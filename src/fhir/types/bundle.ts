/**
 * Bundle, the same JSON in STU3 (3.0.2), R4 (4.0.1) and R5 (5.0.0) for these
 * elements (searchset, transaction and their responses), generic in the type
 * of its entries' resources. type 1..1; link.relation, link.url,
 * request.method, request.url and response.status 1..1.
 */
import type { OperationOutcome } from './operation-outcome.js';
import type { FhirResource } from './resource.js';

export type BundleType =
  | 'document'
  | 'message'
  | 'transaction'
  | 'transaction-response'
  | 'batch'
  | 'batch-response'
  | 'history'
  | 'searchset'
  | 'collection';

export interface BundleLink {
  relation: string;
  url: string;
}

export interface BundleEntrySearch {
  mode?: 'match' | 'include' | 'outcome';
  score?: number;
}

export interface BundleEntryRequest {
  /** STU3 has GET, POST, PUT and DELETE only. */
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifMatch?: string;
  ifNoneExist?: string;
}

export interface BundleEntryResponse {
  status: string;
  location?: string;
  etag?: string;
  lastModified?: string;
  outcome?: OperationOutcome;
}

export interface BundleEntry<T extends FhirResource = FhirResource> {
  fullUrl?: string;
  resource?: T;
  search?: BundleEntrySearch;
  request?: BundleEntryRequest;
  response?: BundleEntryResponse;
}

export type Bundle<T extends FhirResource = FhirResource> = {
  resourceType: 'Bundle';
  id?: string;
  type: BundleType;
  total?: number;
  link?: BundleLink[];
  entry?: BundleEntry<T>[];
};
