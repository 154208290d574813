/**
 * Pure helpers of the admin console's StudyStore methods (searchSummaries,
 * recordPublishAttempt, publishHistory; their types are in study-store.ts),
 * shared by both stores.
 */
import type { PageRequest, StudySearch, StudySummary } from './study-store.js';

/** The largest page a search returns. */
export const MAX_PAGE_SIZE = 500;

const DA = /^\d{8}$/;

/** A DICOM DA usable in a date range (YYYYMMDD), or undefined. */
export function studyDateOf(value: string | undefined): string | undefined {
  return value !== undefined && DA.test(value) ? value : undefined;
}

/**
 * Checks a search and a page and brings the times to the stores' form (ISO
 * 8601 UTC with milliseconds, as lastReceivedAt is kept); empty strings
 * filter nothing. Throws a RangeError naming the member that is wrong.
 */
export function normalizeSearch(search: StudySearch, page: PageRequest): { search: StudySearch; page: PageRequest } {
  if (!Number.isInteger(page.offset) || page.offset < 0) throw new RangeError('offset must be an integer of 0 or more');
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_PAGE_SIZE) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const out: StudySearch = {};
  for (const key of ['studyInstanceUid', 'accessionNumber', 'patientId'] as const) {
    const value = search[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  if (search.state !== undefined) {
    if (!['pending', 'published', 'failed'].includes(search.state)) throw new RangeError('state must be one of pending, published, failed');
    out.state = search.state;
  }
  for (const key of ['studyDateFrom', 'studyDateTo'] as const) {
    const value = search[key];
    if (value === undefined || value === '') continue;
    if (!DA.test(value)) throw new RangeError(`${key} must be a date as YYYYMMDD`);
    out[key] = value;
  }
  for (const key of ['receivedFrom', 'receivedBefore'] as const) {
    const value = search[key];
    if (value === undefined || value === '') continue;
    const ms = Date.parse(value);
    if (!Number.isFinite(ms)) throw new RangeError(`${key} must be an ISO 8601 date or time`);
    out[key] = new Date(ms).toISOString();
  }
  return { search: out, page: { offset: page.offset, limit: page.limit } };
}

type Ordered = Pick<StudySummary, 'lastReceivedAt' | 'studyInstanceUid'>;

/** Newest first, ties by Study Instance UID descending: the order of a StudyPage. */
export function compareListings(a: Ordered, b: Ordered): number {
  if (a.lastReceivedAt !== b.lastReceivedAt) return a.lastReceivedAt < b.lastReceivedAt ? 1 : -1;
  return a.studyInstanceUid < b.studyInstanceUid ? 1 : a.studyInstanceUid > b.studyInstanceUid ? -1 : 0;
}

/** Distinct modalities, sorted. */
export function distinctModalities(values: Iterable<string | undefined | null>): string[] {
  const set = new Set<string>();
  for (const v of values) if (typeof v === 'string' && v !== '') set.add(v);
  return [...set].sort();
}
