/**
 * What the FHIR server says it can do (`GET [base]/metadata`, its
 * CapabilityStatement): its FHIR version, and whether it supports conditional
 * update of ImagingStudy and conditional create of Patient and Endpoint.
 * Read at start with the retry policy, a bounded number of times; a server
 * that does not answer does not hold the bridge: it assumes conditional
 * update and reads /metadata again, at most once a minute, until it answers.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from 'pino';
import type { FhirVersion } from '../fhir/mapping-options.js';
import type { FhirClient, FhirResource } from './fhir-client.js';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

export interface ServerCapabilities {
  /** CapabilityStatement.fhirVersion, e.g. 4.0.1; undefined when not (yet) known. */
  fhirVersion?: string;
  /** Whether the answer came from the server (false: assumed, /metadata not read). */
  known: boolean;
  /** Conditional update per resource type. */
  conditionalUpdate(resourceType: string): boolean;
  /** Conditional create per resource type. */
  conditionalCreate(resourceType: string): boolean;
}

/** 4.0.x → R4, 4.3.x → R4 (R4B reads as R4), 5.0.x → R5, 3.0.x → STU3; else undefined. */
export function fhirRelease(fhirVersion: string | undefined): FhirVersion | undefined {
  const m = /^(\d+)\.(\d+)/.exec(fhirVersion ?? '');
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major === 4 && (minor === 0 || minor === 3)) return 'R4';
  if (major === 5) return 'R5';
  if (major === 3 && minor === 0) return 'STU3';
  return undefined;
}

/** Assumed when /metadata could not be read: conditional interactions supported (FHIR servers in the field do). */
export const ASSUMED_CAPABILITIES: ServerCapabilities = {
  known: false,
  conditionalUpdate: () => true,
  conditionalCreate: () => true,
};

interface RestResource {
  type?: string;
  conditionalUpdate?: boolean;
  conditionalCreate?: boolean;
}

/** Reads a CapabilityStatement (STU3, R4, R5 share these elements). Pure. */
export function capabilitiesFrom(statement: FhirResource): ServerCapabilities {
  const rest = Array.isArray(statement.rest) ? (statement.rest as { mode?: string; resource?: RestResource[] }[]) : [];
  const server = rest.find((r) => r.mode === 'server') ?? rest[0];
  const resources = new Map((server?.resource ?? []).map((r) => [r.type ?? '', r]));
  return {
    known: true,
    ...(typeof statement.fhirVersion === 'string' ? { fhirVersion: statement.fhirVersion } : {}),
    conditionalUpdate: (type) => resources.get(type)?.conditionalUpdate === true,
    conditionalCreate: (type) => resources.get(type)?.conditionalCreate === true,
  };
}

export interface ServerProbeOptions {
  client: FhirClient;
  /** FHIR version the bridge writes (FHIR_VERSION). */
  expectedVersion: FhirVersion;
  logger: Logger;
  retry?: RetryPolicy;
  /** Reads of /metadata at start before assuming (default 5). */
  startAttempts?: number;
  /** Least time between later reads when the start ones failed (default 60 s). */
  reprobeIntervalMs?: number;
  now?: () => number;
}

export class ServerProbe {
  private known: ServerCapabilities | undefined;
  private running: Promise<ServerCapabilities> | undefined;
  private lastTry = 0;
  private readonly now: () => number;

  constructor(private readonly options: ServerProbeOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Reads /metadata with retries (in the background; get() waits for it). */
  start(): void {
    this.running ??= this.probe(this.options.startAttempts ?? 5).finally(() => {
      this.running = undefined;
    });
  }

  /** The capabilities: known ones, or those assumed while the server has not answered. */
  async get(): Promise<ServerCapabilities> {
    if (this.known) return this.known;
    if (this.running) return this.running;
    if (this.now() - this.lastTry >= (this.options.reprobeIntervalMs ?? 60_000)) {
      this.running = this.probe(1).finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    return ASSUMED_CAPABILITIES;
  }

  private async probe(attempts: number): Promise<ServerCapabilities> {
    const { client, logger } = this.options;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      this.lastTry = this.now();
      try {
        const response = await client.metadata();
        if (response.resource?.resourceType !== 'CapabilityStatement') throw new Error('the answer is not a CapabilityStatement');
        this.known = capabilitiesFrom(response.resource);
        this.report(this.known);
        return this.known;
      } catch (err) {
        const message = errorMessage(err);
        if (attempt === attempts) {
          logger.warn({ err: message, baseUrl: client.baseUrl }, 'FHIR server metadata not read: assuming conditional update; will read it again later');
          return ASSUMED_CAPABILITIES;
        }
        // unref: a stopped bridge is not kept alive by a pending retry of /metadata.
        await new Promise((r) => setTimeout(r, backoffDelayMs(attempt, this.options.retry ?? DEFAULT_RETRY_POLICY)).unref());
      }
    }
    return ASSUMED_CAPABILITIES;
  }

  private report(caps: ServerCapabilities): void {
    const { logger, expectedVersion, client } = this.options;
    const release = fhirRelease(caps.fhirVersion);
    if (release !== expectedVersion) {
      logger.warn(
        { serverFhirVersion: caps.fhirVersion ?? null, configured: expectedVersion, baseUrl: client.baseUrl },
        `FHIR server speaks ${caps.fhirVersion ?? 'an unknown version'}, FHIR_VERSION is ${expectedVersion}: resources may be rejected`,
      );
    }
    const conditional = caps.conditionalUpdate('ImagingStudy');
    logger.info(
      { serverFhirVersion: caps.fhirVersion ?? null, conditionalUpdate: conditional, baseUrl: client.baseUrl },
      conditional
        ? 'FHIR server capabilities read'
        : 'FHIR server capabilities read: no conditional update of ImagingStudy, using client-assigned ids',
    );
  }
}
