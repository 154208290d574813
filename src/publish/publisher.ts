import { errorMessage } from '../errors.js';
import type { Logger } from 'pino';
import { FhirHttpError, outcomeText, type FhirClient, type FhirResource } from '../fhir-client/fhir-client.js';
import { logSafeError } from '../fhir-client/log-safe.js';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../fhir-client/retry-policy.js';
import { ASSUMED_CAPABILITIES, ServerProbe } from '../fhir-client/server-capabilities.js';
import type { R4KeyImages } from '../fhir/map-key-images.js';
import { conditionalUpdateQuery, mapImagingStudy, type StudyMapper } from '../fhir/map-imaging-study.js';
import type { FhirVersion, MappingOptions } from '../fhir/mapping-options.js';
import { localResources } from '../fhir/study-resources.js';
import type { StudyState } from '../dicom/study-state.js';
import type { JobQueue } from '../pipeline/job-queue.js';
import type { PublishAttempt, PublishFinish, PublishStart, StudyStore } from '../pipeline/study-store.js';
import { ImagingStudyWriter, type ConditionalQuery } from './imaging-study-writer.js';
import { writeKeyImages } from './key-image-writer.js';
import { writeManifest, type ManifestSettings, type ManifestWritten } from './manifest-writer.js';
import { localManifestResources, mapManifest, manifestDocumentReference } from '../fhir/mado/index.js';
import { isRetryablePublishError } from './publish-errors.js';
import { References, type PatientStrategy } from './references.js';

export { isRetryablePublishError, PublishRejectedError } from './publish-errors.js';
export type { ConditionalQuery } from './imaging-study-writer.js';
export type { PatientStrategy } from './references.js';

/** Where the built-in FHIR endpoint's resources go (its ResourceIndex): each put replaces the resources by type and id. */
export interface LocalResourceSink {
  put(resources: FhirResource[]): Promise<void>;
}

/** Builds the ImagingStudy of a study (default mapImagingStudy). */
export type { StudyMapper };

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
  /** FHIR_MANIFEST=mado: the MADO manifest Bundle and its DocumentReference are written after the ImagingStudy. */
  manifest?: ManifestSettings;
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

/** The mapping threw: the study fails (a person must look), nothing is retried. */
class MappingFailed extends Error {}

/** The built-in endpoint's index refused the resources: local storage, retried like a FHIR outage. */
class LocalIndexFailed extends Error {
  constructor(readonly original: unknown) {
    super(`local FHIR index: ${errorMessage(original)}`);
  }
}

/** What an attempt wrote. */
type Written =
  | { result: 'stored'; body: FhirResource }
  | {
      result: 'published' | 'unchanged';
      body: FhirResource;
      httpStatus: number;
      resourceId: string | undefined;
      keyImages: number;
      manifest?: ManifestWritten | undefined;
    };

/** A log line of one attempt: the study's size, the result, the duration; no patient data. */
type LogLine = (status: string, extra?: Record<string, unknown>) => Record<string, unknown>;

/**
 * Publishes studies (architecture.md, step 3), one attempt as the store's
 * publish protocol has it: load (beginPublish: state, last publish,
 * generation), map, write (the built-in endpoint's index, then the FHIR
 * server: imaging-study-writer.ts, references.ts, key-image-writer.ts),
 * record (finishPublish; a change meanwhile leaves the study pending for
 * its own publish).
 * Network errors, timeouts, 408, 429 and 5xx leave the study pending and
 * reject, so the queue retries with backoff; other 4xx answers (and mapping
 * errors) mark it failed with the server's explanation, for an admin to fix
 * and republish. Logs one line per publish without patient data.
 */
export class Publisher {
  private readonly map: StudyMapper;
  private readonly now: () => number;
  private readonly probe: Pick<ServerProbe, 'start' | 'get'> | undefined;
  private readonly writer: ImagingStudyWriter | undefined;
  private readonly references: References | undefined;

  constructor(private readonly options: PublisherOptions) {
    this.map = options.map ?? mapImagingStudy;
    this.now = options.now ?? Date.now;
    const { client, logger } = options;
    this.probe =
      options.probe === false || client === undefined
        ? undefined
        : (options.probe ?? new ServerProbe({ client, expectedVersion: options.fhirVersion ?? 'R4', logger, retry: options.retry }));
    if (client !== undefined) {
      this.writer = new ImagingStudyWriter({
        client,
        conditionalQuery: options.conditionalQuery ?? conditionalUpdateQuery,
        ...(options.maxConflictRounds !== undefined ? { maxConflictRounds: options.maxConflictRounds } : {}),
        logger,
      });
      this.references = new References({
        client,
        ...(options.patientStrategy !== undefined ? { patientStrategy: options.patientStrategy } : {}),
        ...(options.dicomWebBaseUrl !== undefined ? { dicomWebBaseUrl: options.dicomWebBaseUrl } : {}),
        logger,
      });
    }
  }

  start(): void {
    this.probe?.start();
    const policy = this.options.retry ?? DEFAULT_RETRY_POLICY;
    const retryDelayMs = this.options.retryDelayMs ?? ((attempt: number) => backoffDelayMs(attempt, policy));
    this.options.queue.processPublishes((uid) => this.publish(uid), { retryDelayMs });
  }

  /** One publish attempt of a study; rejects only when a retry may succeed. */
  async publish(studyInstanceUid: string): Promise<void> {
    const startedAt = this.now();
    const begun = await this.options.store.beginPublish(studyInstanceUid);
    if (begun === undefined) {
      this.options.logger.warn({ studyInstanceUid }, 'publish of a study that is not in the store skipped');
      return;
    }
    const { state } = begun;
    const series = state.series.length;
    const instances = state.series.reduce((n, s) => n + s.instances.length, 0);
    const line: LogLine = (status, extra = {}) => ({ studyInstanceUid, series, instances, status, ...extra, durationMs: this.now() - startedAt });

    const progress: { body?: FhirResource } = {};
    let written: Written;
    try {
      written = await this.mapAndWrite(begun, progress);
    } catch (err) {
      await this.recordFailure(begun, err, progress.body, line);
      return;
    }
    await this.recordSuccess(begun, written, line);
  }

  /** Map, then write: the built-in endpoint's index, then the FHIR server (or, without one, nothing more). */
  private async mapAndWrite(begun: PublishStart, progress: { body?: FhirResource }): Promise<Written> {
    const { state, status } = begun;
    const options = mapping(() => this.options.mappingOptionsFor(state));

    if (this.options.localIndex) {
      const resources: FhirResource[] = mapping(() => localResources(state, options, this.map, this.options.dicomWebBaseUrl, this.options.keyImages));
      // The manifest and its envelope, served as Bundle/<uid> and DocumentReference/<uid>.
      const settings = this.options.manifest;
      if (settings) resources.push(...(mapping(() => localManifestResources(state, { ...settings, mapping: options, createdAt: state.lastReceivedAt })) as FhirResource[]));
      try {
        await this.options.localIndex.put(resources);
      } catch (err) {
        throw new LocalIndexFailed(err);
      }
    }

    const { client } = this.options;
    if (client === undefined || this.writer === undefined || this.references === undefined) {
      return { result: 'stored', body: mapping(() => withoutId(this.map(state, options))) };
    }

    const caps = this.probe ? await this.probe.get() : ASSUMED_CAPABILITIES;
    const { references, patient } = await this.references.resolve(state, options, caps);
    const body = mapping(() => withoutId(this.map(state, { ...options, ...references })));
    progress.body = body;
    const sent = await this.writer.write({
      studyInstanceUid: state.studyInstanceUid,
      body,
      version: options.fhirVersion,
      caps,
      previous: status,
      ...(patient ? { patient } : {}),
    });
    // A urn:uuid of the transaction means nothing outside it: the key images then refer by identifier.
    const keyImageOptions: MappingOptions = { ...options, ...references };
    if (patient) delete keyImageOptions.patientReference;
    const keyImages = await writeKeyImages(client, state, keyImageOptions, {
      keyImages: this.options.keyImages ?? 'off',
      imagingStudyId: sent.resourceId,
    });
    const manifest = this.options.manifest ? await this.writeManifestOf(client, state, options, body, sent.resourceId) : undefined;
    return {
      result: sent.unchanged && (manifest === undefined || manifest.unchanged) ? 'unchanged' : 'published',
      body,
      httpStatus: sent.httpStatus,
      resourceId: sent.resourceId,
      keyImages,
      manifest,
    };
  }

  /** The manifest Bundle and its DocumentReference (manifest-writer.ts), referring to the ImagingStudy written. */
  private writeManifestOf(client: FhirClient, state: StudyState, options: MappingOptions, study: FhirResource, imagingStudyId: string | undefined): Promise<ManifestWritten> {
    const settings = this.options.manifest!;
    // A urn:uuid of the ImagingStudy's transaction means nothing outside it: then the logical subject.
    const subject = study.subject as { reference?: string } | undefined;
    const literal = subject && !subject.reference?.startsWith('urn:') ? subject : undefined;
    return writeManifest(client, {
      createdAt: state.lastReceivedAt,
      map: (createdAt) => mapping(() => mapManifest(state, { ...settings, mapping: options, createdAt })),
      envelope: (manifest, bundleUrl) =>
        mapping(() =>
          manifestDocumentReference({
            summary: manifest.summary,
            bundleUrl,
            ...(literal ? { subject: literal } : {}),
            ...(imagingStudyId !== undefined ? { imagingStudyReference: `ImagingStudy/${imagingStudyId}` } : {}),
            options: settings,
          }),
        ),
    });
  }

  // ---- record -----------------------------------------------------------------

  private async recordSuccess(begun: PublishStart, written: Written, line: LogLine): Promise<void> {
    const { state, generation } = begun;
    const finish: PublishFinish = {
      state: 'published',
      publishedAt: new Date(this.now()).toISOString(),
      lastResource: written.body,
      ...(written.result === 'stored' ? { note: NO_SERVER_NOTE } : written.resourceId !== undefined ? { resourceId: written.resourceId } : {}),
    };
    const left = await this.options.store.finishPublish(state.studyInstanceUid, generation, finish);
    // Changed while this ran: the study stays pending, the change's own publish is scheduled.
    const meanwhile = left === 'pending' ? { changedMeanwhile: true } : {};
    await this.remember(state.studyInstanceUid, line, written.result, written.result === 'stored' ? undefined : written.httpStatus);
    if (written.result === 'stored') {
      this.options.logger.info(line('stored', meanwhile), 'study publish');
      this.tell({ result: 'stored', lastReceivedAt: state.lastReceivedAt });
      return;
    }
    this.options.logger.info(
      line(written.result, {
        httpStatus: written.httpStatus,
        resourceId: written.resourceId,
        ...(written.keyImages > 0 ? { keyImages: written.keyImages } : {}),
        ...(written.manifest ? { manifestBundleId: written.manifest.bundleId, manifestDocumentReferenceId: written.manifest.documentReferenceId } : {}),
        ...meanwhile,
      }),
      'study publish',
    );
    this.tell({ result: 'published', httpStatus: written.httpStatus, lastReceivedAt: state.lastReceivedAt });
  }

  /** Failed (resolves) or left pending for a retry (rejects with `err`, so the queue retries). */
  private async recordFailure(begun: PublishStart, err: unknown, body: FhirResource | undefined, line: LogLine): Promise<void> {
    const { state, generation } = begun;
    const { store, logger } = this.options;
    const uid = state.studyInstanceUid;
    if (err instanceof MappingFailed) {
      await store.finishPublish(uid, generation, { state: 'failed', lastError: err.message });
      await this.remember(uid, line, 'failed', undefined, err.message);
      logger.error(line('failed', { error: err.message }), 'study publish');
      return;
    }
    if (err instanceof LocalIndexFailed) {
      await store.finishPublish(uid, generation, { state: 'pending', lastError: err.message });
      await this.remember(uid, line, 'retry', undefined, err.message);
      logger.warn(line('retry', { error: err.message }), 'study publish');
      throw err.original;
    }
    const status = err instanceof FhirHttpError ? err.status : undefined;
    const withBody = body !== undefined ? { lastResource: body } : {};
    if (!isRetryablePublishError(err)) {
      const lastError = err instanceof FhirHttpError ? (outcomeText(err.outcome) ?? err.message) : errorMessage(err);
      await store.finishPublish(uid, generation, { state: 'failed', lastError, ...withBody });
      await this.remember(uid, line, 'failed', status, lastError);
      // The server's text may quote patient data: redacted here, whole in lastError (behind the HTTP access model).
      logger.warn(line('failed', { httpStatus: status, ...logSafeError(err, lastError, state) }), 'study publish');
      this.tell({ result: 'failed', httpStatus: status, lastReceivedAt: state.lastReceivedAt });
      return;
    }
    // Retryable, or unexpected: nothing is dropped, the queue retries with backoff.
    const lastError = errorMessage(err);
    await store.finishPublish(uid, generation, { state: 'pending', lastError, ...withBody });
    await this.remember(uid, line, 'retry', status, lastError);
    logger.warn(line('retry', { httpStatus: status, ...logSafeError(err, lastError, state) }), 'study publish');
    this.tell({ result: 'retry', httpStatus: status, lastReceivedAt: state.lastReceivedAt });
    throw err;
  }

  /** Adds the attempt to the study's publish history (the admin console's); a failure to do so costs the attempt nothing. */
  private async remember(uid: string, line: LogLine, outcome: PublishAttempt['outcome'], httpStatus?: number, error?: string): Promise<void> {
    const attempt: PublishAttempt = { at: new Date(this.now()).toISOString(), outcome, durationMs: line(outcome).durationMs as number };
    if (httpStatus !== undefined) attempt.httpStatus = httpStatus;
    if (error !== undefined) attempt.error = error;
    try {
      await this.options.store.recordPublishAttempt(uid, attempt);
    } catch (err) {
      this.options.logger.warn({ studyInstanceUid: uid, err: errorMessage(err) }, 'publish history not recorded');
    }
  }

  private tell(outcome: PublishOutcome): void {
    try {
      this.options.onOutcome?.(outcome);
    } catch (err) {
      this.options.logger.error({ err }, 'publish outcome listener failed');
    }
  }
}

/** Runs a step of the mapping: what it throws fails the study (MappingFailed). */
function mapping<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    throw new MappingFailed(`mapping failed: ${errorMessage(err)}`);
  }
}


/** A conditional update lets the server resolve the id: none in the body. */
function withoutId<T extends FhirResource>(resource: T): T {
  if (resource.id === undefined) return resource;
  const { id: _id, ...rest } = resource;
  return rest as T;
}
