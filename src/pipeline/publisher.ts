import type { Logger } from 'pino';
import {
  FhirHttpError,
  idFromLocation,
  isRetryable,
  outcomeText,
  type FhirClient,
  type FhirResource,
} from '../fhir/client/fhir-client.js';
import { conditionalUpdateQuery, mapImagingStudy } from '../fhir/map-imaging-study.js';
import type { FhirVersion, MappingOptions } from '../fhir/mapping-options.js';
import type { JobQueue } from './job-queue.js';
import type { StudyState } from './study-state.js';
import type { StudyStore } from './study-store.js';

/** Builds the ImagingStudy of a study (default mapImagingStudy). */
export type StudyMapper = (state: StudyState, options: MappingOptions) => object;
/** The search of `PUT ImagingStudy?<query>` that finds the study's resource (default conditionalUpdateQuery). */
export type ConditionalQuery = (studyInstanceUid: string, version: FhirVersion) => string;

export interface PublisherOptions {
  queue: JobQueue;
  store: StudyStore;
  /** Undefined: no FHIR server; the generated resource is kept in the store and the study marked published. */
  client?: FhirClient;
  mappingOptionsFor: (state: StudyState) => MappingOptions;
  map?: StudyMapper;
  conditionalQuery?: ConditionalQuery;
  /** Delay before retry `attempt` (1, 2, ...); default 1 s·2^(attempt-1) capped at 5 min, with jitter. */
  retryDelayMs?: (attempt: number) => number;
  logger: Logger;
  now?: () => number;
  /** Told the outcome of every attempt (metrics). */
  onOutcome?: (outcome: PublishOutcome) => void;
}

/** What one publish attempt came to, for metrics. */
export interface PublishOutcome {
  result: 'published' | 'stored' | 'retry' | 'failed';
  /** HTTP status of the FHIR answer, when there was one. */
  httpStatus?: number;
  /** ISO time of the study's last received instance. */
  lastReceivedAt: string;
}

export const NO_SERVER_NOTE =
  'no FHIR server is configured (fhir.baseUrl unset): the generated resource is kept here and not sent';

/**
 * Publishes studies: loads the state, maps it to an ImagingStudy and upserts
 * it with a conditional update keyed by the Study Instance UID (architecture.md, step 3).
 * Network errors, timeouts, 408, 429 and 5xx leave the study pending and
 * reject, so the queue retries with backoff; other 4xx answers (and mapping
 * errors) mark it failed with the server's explanation, for an admin to fix
 * and republish. Logs one line per publish without patient data.
 */
export class Publisher {
  private readonly map: StudyMapper;
  private readonly conditionalQuery: ConditionalQuery;
  private readonly now: () => number;

  constructor(private readonly options: PublisherOptions) {
    this.map = options.map ?? mapImagingStudy;
    this.conditionalQuery = options.conditionalQuery ?? conditionalUpdateQuery;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    const retryDelayMs = this.options.retryDelayMs;
    this.options.queue.processPublishes((uid) => this.publish(uid), retryDelayMs ? { retryDelayMs } : undefined);
  }

  /** One publish attempt of a study; rejects only when a retry may succeed. */
  async publish(studyInstanceUid: string): Promise<void> {
    const { store, client, logger } = this.options;
    const startedAt = this.now();
    const state = await store.getStudy(studyInstanceUid);
    if (state === undefined) {
      logger.warn({ studyInstanceUid }, 'publish of a study that is not in the store skipped');
      return;
    }
    const series = state.series.length;
    const instances = state.series.reduce((n, s) => n + s.instances.length, 0);
    const line = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      studyInstanceUid,
      series,
      instances,
      status,
      ...extra,
      durationMs: this.now() - startedAt,
    });

    const attempts = ((await store.getSummary(studyInstanceUid))?.publish.attempts ?? 0) + 1;
    // Pending with attempts ≥ 1 while this runs: a merge meanwhile resets attempts to 0 (see below).
    await store.setPublishStatus(studyInstanceUid, { state: 'pending', attempts });

    let options: MappingOptions;
    let body: FhirResource;
    try {
      options = this.options.mappingOptionsFor(state);
      body = withoutId(this.map(state, options) as FhirResource);
    } catch (err) {
      const lastError = `mapping failed: ${err instanceof Error ? err.message : String(err)}`;
      await store.setPublishStatus(studyInstanceUid, { state: 'failed', attempts, lastError });
      logger.error(line('failed', { error: lastError }), 'study publish');
      return;
    }

    if (client === undefined) {
      await this.recordSuccess(studyInstanceUid, attempts, body, undefined, NO_SERVER_NOTE);
      logger.info(line('stored'), 'study publish');
      this.tell({ result: 'stored', lastReceivedAt: state.lastReceivedAt });
      return;
    }

    try {
      const query = this.conditionalQuery(studyInstanceUid, options.fhirVersion);
      const response = await client.conditionalUpdate('ImagingStudy', query, body);
      const resourceId = response.resource?.id ?? idFromLocation(response.location, 'ImagingStudy');
      await this.recordSuccess(studyInstanceUid, attempts, body, resourceId, undefined);
      logger.info(line('published', { httpStatus: response.status, resourceId }), 'study publish');
      this.tell({ result: 'published', httpStatus: response.status, lastReceivedAt: state.lastReceivedAt });
    } catch (err) {
      const status = err instanceof FhirHttpError ? err.status : undefined;
      if (err instanceof FhirHttpError && !isRetryable(err)) {
        const lastError = outcomeText(err.outcome) ?? err.message;
        await store.setPublishStatus(studyInstanceUid, { state: 'failed', attempts, lastError, lastResource: body });
        logger.warn(line('failed', { httpStatus: status, error: lastError }), 'study publish');
        this.tell({ result: 'failed', httpStatus: status, lastReceivedAt: state.lastReceivedAt });
        return;
      }
      // Retryable, or unexpected: nothing is dropped, the queue retries with backoff.
      const lastError = err instanceof Error ? err.message : String(err);
      await store.setPublishStatus(studyInstanceUid, { state: 'pending', attempts, lastError, lastResource: body });
      logger.warn(line('retry', { httpStatus: status, error: lastError }), 'study publish');
      this.tell({ result: 'retry', httpStatus: status, lastReceivedAt: state.lastReceivedAt });
      throw err;
    }
  }

  private tell(outcome: PublishOutcome): void {
    try {
      this.options.onOutcome?.(outcome);
    } catch (err) {
      this.options.logger.error({ err }, 'publish outcome listener failed');
    }
  }

  private async recordSuccess(
    studyInstanceUid: string,
    attempts: number,
    body: FhirResource,
    resourceId: string | undefined,
    note: string | undefined,
  ): Promise<void> {
    const { store } = this.options;
    // attempts back at 0: instances merged during this publish; their own publish is scheduled, stay pending.
    const changedMeanwhile = (await store.getSummary(studyInstanceUid))?.publish.attempts === 0;
    await store.setPublishStatus(studyInstanceUid, {
      state: changedMeanwhile ? 'pending' : 'published',
      attempts: changedMeanwhile ? 0 : attempts,
      publishedAt: new Date(this.now()).toISOString(),
      lastResource: body,
      lastError: undefined,
      note,
      ...(resourceId !== undefined ? { resourceId } : {}),
    });
  }
}

/** A conditional update lets the server resolve the id: none in the body. */
function withoutId(resource: FhirResource): FhirResource {
  if (resource.id === undefined) return resource;
  const { id: _id, ...rest } = resource;
  return rest as FhirResource;
}
