import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { TokenError } from '../fhir-client/auth/auth-provider.js';
import {
  FhirHttpError,
  idFromLocation,
  isRetryable,
  outcomeText,
  type FhirClient,
  type FhirResource,
  type OperationOutcomeJson,
} from '../fhir-client/fhir-client.js';
import { logSafeError } from '../fhir-client/log-safe.js';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../fhir-client/retry-policy.js';
import { ASSUMED_CAPABILITIES, ServerProbe, type ServerCapabilities } from '../fhir-client/server-capabilities.js';
import { endpointIdentifierQuery, mapEndpoint } from '../fhir/map-endpoint.js';
import type { R4KeyImages } from '../fhir/map-key-images.js';
import { conditionalUpdateQuery, mapImagingStudy, patientIdentifier } from '../fhir/map-imaging-study.js';
import { mapPatient } from '../fhir/map-patient.js';
import type { FhirVersion, MappingOptions } from '../fhir/mapping-options.js';
import { mergeImagingStudy, sameContent } from '../fhir/owned-elements.js';
import type { JobQueue } from '../pipeline/job-queue.js';
import { keyImageWrites } from '../fhir/key-image-writes.js';
import { localResources } from '../fhir/study-resources.js';
import { endpointId, imagingStudyId } from '../fhir/resource-ids.js';
import type { StudyState } from '../dicom/study-state.js';
import type { StudyStore } from '../pipeline/study-store.js';

/** Where the built-in FHIR endpoint's resources go (its ResourceIndex): each put replaces the resources by type and id. */
export interface LocalResourceSink {
  put(resources: FhirResource[]): Promise<void>;
}

/** Builds the ImagingStudy of a study (default mapImagingStudy). */
export type StudyMapper = (state: StudyState, options: MappingOptions) => object;
/** The search of `PUT ImagingStudy?<query>` that finds the study's resource (default conditionalUpdateQuery). */
export type ConditionalQuery = (studyInstanceUid: string, version: FhirVersion) => string;

/**
 * How ImagingStudy.subject finds the Patient (fhir.patient.strategy):
 * - identifier: logical reference by the patient identifier (no Patient read or written);
 * - lookup: search Patient by identifier; one match is referenced, none gives the
 *   logical reference, several fail the study (no guess);
 * - create: one transaction that conditionally creates the Patient
 *   (`ifNoneExist: identifier=system|value`) and writes the ImagingStudy referring to it.
 */
export type PatientStrategy = 'identifier' | 'lookup' | 'create';

export interface PublisherOptions {
  queue: JobQueue;
  store: StudyStore;
  /** Undefined: no FHIR server; the generated resource is kept in the store and the study marked published. */
  client?: FhirClient;
  mappingOptionsFor: (state: StudyState) => MappingOptions;
  map?: StudyMapper;
  conditionalQuery?: ConditionalQuery;
  /** Delay before retry `attempt` (1, 2, ...); default from `retry`. */
  retryDelayMs?: (attempt: number) => number;
  /** Backoff of retries (fhir.retry); default 1 s·2^(attempt-1) capped at 5 min, with jitter. */
  retry?: RetryPolicy;
  /** Default 'identifier'. */
  patientStrategy?: PatientStrategy;
  /** DICOMweb base URL: an Endpoint is created once and referenced from ImagingStudy.endpoint. */
  dicomWebBaseUrl?: string;
  /** The built-in FHIR endpoint's index: fed with every study's resources before any external write. */
  localIndex?: LocalResourceSink;
  /** FHIR version written (FHIR_VERSION), compared with the server's at start; default R4. */
  fhirVersion?: FhirVersion;
  /** R4: key images of KOS as xver Basic resources ('extensions') or not at all ('off', default). */
  keyImages?: R4KeyImages;
  /**
   * What the server supports (read from /metadata). Default: a ServerProbe on `client`
   * started by start(); `false`: do not read /metadata, assume conditional update.
   */
  probe?: Pick<ServerProbe, 'start' | 'get'> | false;
  /** Read-merge-write rounds after a 412 before the publish is retried later; default 5. */
  maxConflictRounds?: number;
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

/** The publisher's settings from the `fhir:` configuration (for the composition root). */
export function publisherSettings(fhir: {
  version: FhirVersion;
  retry: RetryPolicy;
  patient: { strategy: PatientStrategy };
  dicomWebBaseUrl?: string;
  keyImages?: R4KeyImages;
}): Pick<PublisherOptions, 'retry' | 'patientStrategy' | 'dicomWebBaseUrl' | 'fhirVersion' | 'keyImages'> {
  return {
    retry: fhir.retry,
    patientStrategy: fhir.patient.strategy,
    fhirVersion: fhir.version,
    keyImages: fhir.keyImages ?? 'off',
    ...(fhir.dicomWebBaseUrl ? { dicomWebBaseUrl: fhir.dicomWebBaseUrl } : {}),
  };
}

export const NO_SERVER_NOTE =
  'no FHIR server is configured (fhir.baseUrl unset): the generated resource is kept here and not sent';

/** The server's data make the publish impossible without a person (e.g. several Patients match): the study fails. */
export class PublishRejectedError extends Error {
  override readonly name = 'PublishRejectedError';
}

/** Whether a publish error leaves the study pending (retried) rather than failed. */
export function isRetryablePublishError(err: unknown): boolean {
  if (err instanceof PublishRejectedError) return false;
  if (err instanceof TokenError) return true;
  if (err instanceof FhirHttpError) {
    // 401 after a fresh token, and 409/412 after the bounded merge rounds, are not the study's fault.
    return isRetryable(err) || err.status === 401 || err.status === 409 || err.status === 412;
  }
  return true; // network errors, timeouts, unexpected: nothing is dropped
}

interface Existing {
  resource: FhirResource;
  /** `W/"<versionId>"` of the version read. */
  ifMatch: string | undefined;
}

interface Sent {
  httpStatus: number;
  resourceId: string | undefined;
  /** The write was skipped: the server already has this content. */
  unchanged?: boolean;
}

const CONFLICT = new Set([409, 412]);

/**
 * Publishes studies: loads the state, maps it to an ImagingStudy and writes
 * it (architecture.md, step 3). A first publish is a conditional update keyed
 * by the Study Instance UID (or a PUT to a client-assigned id when the server
 * does not do conditional update). Later publishes read the resource, keep
 * what the bridge does not own (owned-elements.ts) and write with If-Match on
 * the version read; a 412 reads and merges again.
 * Network errors, timeouts, 408, 429 and 5xx leave the study pending and
 * reject, so the queue retries with backoff; other 4xx answers (and mapping
 * errors) mark it failed with the server's explanation, for an admin to fix
 * and republish. Logs one line per publish without patient data.
 */
export class Publisher {
  private readonly map: StudyMapper;
  private readonly conditionalQuery: ConditionalQuery;
  private readonly now: () => number;
  private readonly probe: Pick<ServerProbe, 'start' | 'get'> | undefined;
  private endpoint: Promise<string> | undefined;

  constructor(private readonly options: PublisherOptions) {
    this.map = options.map ?? mapImagingStudy;
    this.conditionalQuery = options.conditionalQuery ?? conditionalUpdateQuery;
    this.now = options.now ?? Date.now;
    this.probe =
      options.probe === false || options.client === undefined
        ? undefined
        : (options.probe ??
          new ServerProbe({
            client: options.client,
            expectedVersion: options.fhirVersion ?? 'R4',
            logger: options.logger,
            retry: options.retry,
          }));
  }

  start(): void {
    this.probe?.start();
    const policy = this.options.retry ?? DEFAULT_RETRY_POLICY;
    const retryDelayMs = this.options.retryDelayMs ?? ((attempt: number) => backoffDelayMs(attempt, policy));
    this.options.queue.processPublishes((uid) => this.publish(uid), { retryDelayMs });
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

    const summary = await store.getSummary(studyInstanceUid);
    const attempts = (summary?.publish.attempts ?? 0) + 1;
    // Pending with attempts ≥ 1 while this runs: a merge meanwhile resets attempts to 0 (see below).
    await store.setPublishStatus(studyInstanceUid, { state: 'pending', attempts });

    let options: MappingOptions;
    try {
      options = this.options.mappingOptionsFor(state);
    } catch (err) {
      await this.mappingFailed(studyInstanceUid, attempts, err, line);
      return;
    }

    if (this.options.localIndex) {
      let resources: ReturnType<typeof localResources>;
      try {
        resources = localResources(state, options, this.map, this.options.dicomWebBaseUrl, this.options.keyImages);
      } catch (err) {
        await this.mappingFailed(studyInstanceUid, attempts, err, line);
        return;
      }
      try {
        await this.options.localIndex.put(resources);
      } catch (err) {
        // The index is local storage: a failure is retried like a FHIR outage, never dropped.
        const lastError = `local FHIR index: ${err instanceof Error ? err.message : String(err)}`;
        await store.setPublishStatus(studyInstanceUid, { state: 'pending', attempts, lastError });
        logger.warn(line('retry', { error: lastError }), 'study publish');
        throw err;
      }
    }

    if (client === undefined) {
      let body: FhirResource;
      try {
        body = withoutId(this.map(state, options) as FhirResource);
      } catch (err) {
        await this.mappingFailed(studyInstanceUid, attempts, err, line);
        return;
      }
      await this.recordSuccess(studyInstanceUid, attempts, body, undefined, NO_SERVER_NOTE);
      logger.info(line('stored'), 'study publish');
      this.tell({ result: 'stored', lastReceivedAt: state.lastReceivedAt });
      return;
    }

    let body: FhirResource | undefined;
    try {
      const caps = this.probe ? await this.probe.get() : ASSUMED_CAPABILITIES;
      const references: Pick<MappingOptions, 'endpointReference' | 'patientReference'> = {};
      if (this.options.dicomWebBaseUrl) references.endpointReference = await this.endpointReference(client, options.fhirVersion, caps);
      const strategy = this.options.patientStrategy ?? 'identifier';
      const identifier = strategy === 'identifier' ? undefined : patientIdentifier(state, options);
      let patientUrn: string | undefined;
      if (identifier && strategy === 'lookup') {
        const found = await this.lookupPatient(client, identifier);
        if (found) references.patientReference = found;
      } else if (identifier && strategy === 'create') {
        patientUrn = `urn:uuid:${randomUUID()}`;
        references.patientReference = patientUrn;
      }
      try {
        body = withoutId(this.map(state, { ...options, ...references }) as FhirResource);
      } catch (err) {
        await this.mappingFailed(studyInstanceUid, attempts, err, line);
        return;
      }
      const patient =
        patientUrn && identifier
          ? { urn: patientUrn, resource: mapPatient(state, options) as unknown as FhirResource, identifier }
          : undefined;
      const sent = await this.write(client, studyInstanceUid, body, options.fhirVersion, caps, summary?.publish, patient);
      // A urn:uuid of the transaction means nothing outside it: the key images then refer by identifier.
      const keyImageOptions: MappingOptions = { ...options, ...references };
      if (patientUrn) delete keyImageOptions.patientReference;
      const keyImages = await this.writeKeyImages(client, state, keyImageOptions, sent.resourceId);
      await this.recordSuccess(studyInstanceUid, attempts, body, sent.resourceId, undefined);
      logger.info(
        line(sent.unchanged ? 'unchanged' : 'published', {
          httpStatus: sent.httpStatus,
          resourceId: sent.resourceId,
          ...(keyImages > 0 ? { keyImages } : {}),
        }),
        'study publish',
      );
      this.tell({ result: 'published', httpStatus: sent.httpStatus, lastReceivedAt: state.lastReceivedAt });
    } catch (err) {
      const status = err instanceof FhirHttpError ? err.status : undefined;
      const withBody = body !== undefined ? { lastResource: body } : {};
      if (!isRetryablePublishError(err)) {
        const lastError =
          err instanceof FhirHttpError ? (outcomeText(err.outcome) ?? err.message) : err instanceof Error ? err.message : String(err);
        await store.setPublishStatus(studyInstanceUid, { state: 'failed', attempts, lastError, ...withBody });
        // The server's text may quote patient data: redacted here, whole in lastError (behind the HTTP access model).
        logger.warn(line('failed', { httpStatus: status, ...logSafeError(err, lastError, state) }), 'study publish');
        this.tell({ result: 'failed', httpStatus: status, lastReceivedAt: state.lastReceivedAt });
        return;
      }
      // Retryable, or unexpected: nothing is dropped, the queue retries with backoff.
      const lastError = err instanceof Error ? err.message : String(err);
      await store.setPublishStatus(studyInstanceUid, { state: 'pending', attempts, lastError, ...withBody });
      logger.warn(line('retry', { httpStatus: status, ...logSafeError(err, lastError, state) }), 'study publish');
      this.tell({ result: 'retry', httpStatus: status, lastReceivedAt: state.lastReceivedAt });
      throw err;
    }
  }

  // ---- ImagingStudy --------------------------------------------------------

  private async write(
    client: FhirClient,
    uid: string,
    body: FhirResource,
    version: FhirVersion,
    caps: ServerCapabilities,
    previous: { resourceId?: string; lastResource?: unknown } | undefined,
    patient: { urn: string; resource: FhirResource; identifier: { system: string; value: string } } | undefined,
  ): Promise<Sent> {
    const conditional = caps.conditionalUpdate('ImagingStudy');
    const rounds = this.options.maxConflictRounds ?? 5;
    let knownId = previous?.resourceId ?? (conditional ? undefined : imagingStudyId(uid));
    for (let round = 1; ; round++) {
      const existing = await this.findExisting(client, uid, version, knownId, conditional);
      try {
        if (existing === undefined) {
          // First publish: nothing to keep.
          const url = conditional ? `ImagingStudy?${this.conditionalQuery(uid, version)}` : `ImagingStudy/${imagingStudyId(uid)}`;
          if (patient) return await this.transaction(client, patient, conditional ? body : { ...body, id: imagingStudyId(uid) }, { method: 'PUT', url });
          if (conditional) {
            const response = await client.conditionalUpdate('ImagingStudy', this.conditionalQuery(uid, version), body);
            return { httpStatus: response.status, resourceId: response.resource?.id ?? idFromLocation(response.location, 'ImagingStudy') };
          }
          const response = await client.update('ImagingStudy', imagingStudyId(uid), body);
          return { httpStatus: response.status, resourceId: response.resource?.id ?? imagingStudyId(uid) };
        }
        const id = existing.resource.id!;
        knownId = id;
        const merged = mergeImagingStudy(existing.resource, body, version, previous?.lastResource);
        if (patient) {
          return await this.transaction(client, patient, merged, {
            method: 'PUT',
            url: `ImagingStudy/${id}`,
            ...(existing.ifMatch ? { ifMatch: existing.ifMatch } : {}),
          });
        }
        if (sameContent(merged, existing.resource)) return { httpStatus: 200, resourceId: id, unchanged: true };
        const response = await client.update('ImagingStudy', id, merged, existing.ifMatch ? { ifMatch: existing.ifMatch } : {});
        return { httpStatus: response.status, resourceId: response.resource?.id ?? id };
      } catch (err) {
        // Someone wrote in between: read and merge again, a bounded number of times.
        if (err instanceof FhirHttpError && CONFLICT.has(err.status) && existing !== undefined && round < rounds) {
          this.options.logger.debug({ studyInstanceUid: uid, round, httpStatus: err.status }, 'ImagingStudy changed meanwhile: merging again');
          continue;
        }
        throw err;
      }
    }
  }

  /** The ImagingStudy on the server: by the id known, else by identifier search; undefined when none. */
  private async findExisting(
    client: FhirClient,
    uid: string,
    version: FhirVersion,
    knownId: string | undefined,
    conditional: boolean,
  ): Promise<Existing | undefined> {
    if (knownId !== undefined) {
      try {
        const response = await client.read('ImagingStudy', knownId);
        if (response.resource?.resourceType === 'ImagingStudy') return existingOf(response.resource, response.etag);
      } catch (err) {
        if (!(err instanceof FhirHttpError) || (err.status !== 404 && err.status !== 410)) throw err;
      }
      if (!conditional) return undefined; // client-assigned id: not there is not there
    }
    const query = this.conditionalQuery(uid, version);
    const response = await client.search('ImagingStudy', query);
    const matches = matchesOf(response.resource, 'ImagingStudy');
    if (matches.length > 1) {
      throw new PublishRejectedError(`${matches.length} ImagingStudy resources match ${decodeURIComponent(query)}: resolve the duplicates on the server, then republish`);
    }
    return matches[0] ? existingOf(matches[0], undefined) : undefined;
  }

  /** One transaction: conditional create of the Patient, and the write of the ImagingStudy that refers to it. */
  private async transaction(
    client: FhirClient,
    patient: { urn: string; resource: FhirResource; identifier: { system: string; value: string } },
    study: FhirResource,
    request: { method: 'PUT'; url: string; ifMatch?: string },
  ): Promise<Sent> {
    const bundle: FhirResource = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: patient.urn,
          resource: patient.resource,
          request: {
            method: 'POST',
            url: 'Patient',
            ifNoneExist: `identifier=${encodeURIComponent(`${patient.identifier.system}|${patient.identifier.value}`)}`,
          },
        },
        { resource: study, request },
      ],
    };
    const response = await client.transaction(bundle);
    const entries = (response.resource?.entry ?? []) as { response?: { status?: string; location?: string; outcome?: unknown }; resource?: FhirResource }[];
    for (const entry of entries) {
      const status = parseInt(entry.response?.status ?? '', 10);
      if (Number.isFinite(status) && (status < 200 || status >= 300)) {
        const outcome = entry.response?.outcome as OperationOutcomeJson | undefined;
        throw new FhirHttpError(`POST / (transaction entry) → ${status}${outcomeText(outcome) ? `: ${outcomeText(outcome)}` : ''}`, status, outcome);
      }
    }
    const studyEntry = entries[1];
    const resourceId = studyEntry?.resource?.id ?? idFromLocation(studyEntry?.response?.location, 'ImagingStudy');
    return { httpStatus: parseInt(studyEntry?.response?.status ?? '', 10) || response.status, resourceId };
  }

  // ---- Key Object Selection key images -----------------------------------------

  /**
   * Upserts the key-image resources of the study's KOS (key-image-writes.ts)
   * after its ImagingStudy: one conditional update `PUT <type>?<query>` each
   * (idempotent: keyed by the KOS SOP Instance UID, plus the series UID where
   * there is one resource per series). `ImagingStudy/<id>` of the write is
   * their derivedFrom / imagingStudy. A failure rejects like a failed
   * ImagingStudy write (retryable: the study stays pending). Returns how many.
   */
  private async writeKeyImages(client: FhirClient, state: StudyState, options: MappingOptions, imagingStudyId: string | undefined): Promise<number> {
    const writes = keyImageWrites(state, options, {
      keyImages: this.options.keyImages ?? 'off',
      ...(imagingStudyId !== undefined ? { imagingStudyReference: `ImagingStudy/${imagingStudyId}` } : {}),
    });
    for (const w of writes) await client.conditionalUpdate(w.resourceType, w.query, w.resource);
    return writes.length;
  }

  // ---- Patient and Endpoint ---------------------------------------------------

  private async lookupPatient(client: FhirClient, identifier: { system: string; value: string }): Promise<string | undefined> {
    const token = `${identifier.system}|${identifier.value}`;
    const response = await client.search('Patient', { identifier: token });
    const matches = matchesOf(response.resource, 'Patient');
    const total = typeof response.resource?.total === 'number' ? response.resource.total : matches.length;
    if (total > 1 || matches.length > 1) {
      throw new PublishRejectedError(`${Math.max(total, matches.length)} Patients match identifier ${token}`);
    }
    return matches[0]?.id ? `Patient/${matches[0].id}` : undefined;
  }

  /** `Endpoint/<id>` of the DICOMweb Endpoint, created once per process (conditional create). */
  private endpointReference(client: FhirClient, version: FhirVersion, caps: ServerCapabilities): Promise<string> {
    this.endpoint ??= this.ensureEndpoint(client, version, caps).catch((err: unknown) => {
      this.endpoint = undefined; // try again at the next publish
      throw err;
    });
    return this.endpoint;
  }

  private async ensureEndpoint(client: FhirClient, version: FhirVersion, caps: ServerCapabilities): Promise<string> {
    const address = this.options.dicomWebBaseUrl!;
    const resource = mapEndpoint(address, version) as unknown as FhirResource;
    if (!caps.conditionalCreate('Endpoint')) {
      const id = endpointId(address);
      await client.update('Endpoint', id, resource);
      return `Endpoint/${id}`;
    }
    const query = endpointIdentifierQuery(address);
    const response = await client.create('Endpoint', resource, { ifNoneExist: query });
    let id = response.resource?.resourceType === 'Endpoint' ? response.resource.id : undefined;
    id ??= idFromLocation(response.location, 'Endpoint');
    if (id === undefined) {
      // A server that answers the conditional create without body or Location: find it.
      const found = matchesOf((await client.search('Endpoint', query)).resource, 'Endpoint');
      id = found[0]?.id;
    }
    if (id === undefined) throw new Error('the FHIR server did not tell the id of the Endpoint');
    this.options.logger.info({ endpoint: `Endpoint/${id}`, httpStatus: response.status }, 'DICOMweb Endpoint ready');
    return `Endpoint/${id}`;
  }

  // ---- bookkeeping ------------------------------------------------------------

  private async mappingFailed(
    studyInstanceUid: string,
    attempts: number,
    err: unknown,
    line: (status: string, extra?: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<void> {
    const lastError = `mapping failed: ${err instanceof Error ? err.message : String(err)}`;
    await this.options.store.setPublishStatus(studyInstanceUid, { state: 'failed', attempts, lastError });
    this.options.logger.error(line('failed', { error: lastError }), 'study publish');
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

function existingOf(resource: FhirResource, etag: string | undefined): Existing {
  const versionId = (resource.meta as { versionId?: unknown } | undefined)?.versionId;
  const ifMatch = typeof versionId === 'string' && versionId !== '' ? `W/"${versionId}"` : etag;
  return { resource, ifMatch };
}

/** The matches (not includes or outcomes) of a searchset Bundle. */
function matchesOf(bundle: FhirResource | undefined, resourceType: string): FhirResource[] {
  const entries = Array.isArray(bundle?.entry) ? (bundle.entry as { resource?: FhirResource; search?: { mode?: string } }[]) : [];
  return entries
    .filter((e) => e.resource?.resourceType === resourceType && (e.search?.mode === undefined || e.search.mode === 'match'))
    .map((e) => e.resource!);
}
