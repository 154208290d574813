/**
 * A small FHIR REST client on fetch. We keep our own rather than
 * fhir-kit-client because the publisher needs the HTTP status, Retry-After,
 * If-Match and a custom TLS dispatcher, which that library hides.
 * Authorization comes from an AuthProvider (auth/): a 401 drops its cached
 * token and the request is sent once more with a fresh one.
 */
import type { FhirResource } from '../fhir/types/resource.js';
import type { AuthProvider } from './auth/auth-provider.js';

export type { FhirResource };

const FHIR_JSON = 'application/fhir+json';

export interface FhirClientOptions {
  /** Service base URL, e.g. https://fhir.example.org/R4 (a trailing slash is ignored). */
  baseUrl: string;
  /** Time allowed for one request, response body included. */
  timeoutMs: number;
  /** Extra headers on every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Fetch implementation; default the global fetch (create-fhir-client.ts passes undici's with a TLS dispatcher). */
  fetch?: typeof fetch;
  /** Authorization header source; absent: none. */
  auth?: AuthProvider;
}

/** A successful response. */
export interface FhirResponse<T = FhirResource> {
  status: number;
  /** The parsed body, when there is one. */
  resource?: T;
  /** Location (or Content-Location) header. */
  location?: string;
  /** ETag header, e.g. W/"3". */
  etag?: string;
}


export interface OperationOutcomeJson {
  resourceType: 'OperationOutcome';
  issue?: { severity?: string; code?: string; diagnostics?: string; details?: { text?: string }; expression?: string[] }[];
}

/** The server answered with a status other than 2xx. */
export class FhirHttpError extends Error {
  override readonly name = 'FhirHttpError';
  constructor(
    message: string,
    readonly status: number,
    readonly outcome?: OperationOutcomeJson,
    /** From Retry-After (seconds or an HTTP date), when the server sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** No HTTP answer: connection refused or reset, DNS, TLS, or the timeout elapsed. */
export class FhirNetworkError extends Error {
  override readonly name = 'FhirNetworkError';
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether the same request may succeed later: network errors, timeouts, 408, 429 and 5xx. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof FhirNetworkError) return true;
  if (err instanceof FhirHttpError) return err.status === 408 || err.status === 429 || err.status >= 500;
  return false;
}

/** The human-readable text of an OperationOutcome: each issue's details.text or diagnostics, joined. */
export function outcomeText(outcome: OperationOutcomeJson | undefined): string | undefined {
  const texts = (outcome?.issue ?? [])
    .map((issue) => {
      const text = issue.details?.text ?? issue.diagnostics;
      if (text === undefined) return undefined;
      return issue.expression?.length ? `${text} (${issue.expression.join(', ')})` : text;
    })
    .filter((t): t is string => typeof t === 'string' && t.length > 0);
  return texts.length > 0 ? texts.join('; ') : undefined;
}

/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The logical id in a Location such as `[base]/ImagingStudy/123/_history/2`. */
export function idFromLocation(location: string | undefined, resourceType: string): string | undefined {
  if (location === undefined) return undefined;
  const match = new RegExp(`(?:^|/)${resourceType}/([A-Za-z0-9\\-.]{1,64})(?:/_history/|$|\\?)`).exec(location);
  return match?.[1];
}

export class FhirClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;
  private readonly auth: AuthProvider | undefined;

  constructor(options: FhirClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    this.headers = { ...options.headers };
    this.fetchImpl = options.fetch ?? fetch;
    this.auth = options.auth;
  }

  /** `PUT [base]/[type]/[id]`: update (or create with a client-assigned id); `ifMatch` e.g. W/"3". */
  update<T extends FhirResource>(
    resourceType: string,
    id: string,
    resource: T,
    options: { ifMatch?: string } = {},
  ): Promise<FhirResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers['If-Match'] = options.ifMatch;
    return this.request<T>('PUT', `${resourceType}/${encodeURIComponent(id)}`, { ...resource, id }, headers);
  }

  /** `POST [base]/[type]`, with `If-None-Exist: <query>` a conditional create (FHIR R4 3.1.0.8.1). */
  create<T extends FhirResource>(resourceType: string, resource: T, options: { ifNoneExist?: string } = {}): Promise<FhirResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.ifNoneExist !== undefined) headers['If-None-Exist'] = options.ifNoneExist;
    return this.request<T>('POST', resourceType, resource, headers);
  }

  /** `PUT [base]/[type]?[query]`: update the one match, create when none (FHIR R4 3.1.0.4.3). */
  conditionalUpdate<T extends FhirResource>(
    resourceType: string,
    query: string,
    resource: T,
    options: { ifMatch?: string } = {},
  ): Promise<FhirResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers['If-Match'] = options.ifMatch;
    return this.request<T>('PUT', `${resourceType}?${query}`, resource, headers);
  }

  read<T extends FhirResource = FhirResource>(resourceType: string, id: string): Promise<FhirResponse<T>> {
    return this.request<T>('GET', `${resourceType}/${encodeURIComponent(id)}`);
  }

  /** `GET [base]/[type]?[query]`; the query as a string or as name/value pairs. */
  search<T extends FhirResource = FhirResource>(
    resourceType: string,
    query: string | Record<string, string> = '',
  ): Promise<FhirResponse<T>> {
    const qs = typeof query === 'string' ? query : new URLSearchParams(query).toString();
    return this.request<T>('GET', qs ? `${resourceType}?${qs}` : resourceType);
  }

  /** `POST [base]` with a transaction (or batch) Bundle. */
  transaction<T extends FhirResource = FhirResource>(bundle: FhirResource): Promise<FhirResponse<T>> {
    return this.request<T>('POST', '', bundle);
  }

  /** `GET [base]/metadata`: the CapabilityStatement. */
  metadata<T extends FhirResource = FhirResource>(): Promise<FhirResponse<T>> {
    return this.request<T>('GET', 'metadata');
  }

  private async request<T>(
    method: string,
    relative: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<FhirResponse<T>> {
    try {
      return await this.send<T>(method, relative, body, extraHeaders);
    } catch (err) {
      // A 401 may be an expired or revoked token: drop it and try once more with a fresh one.
      if (!(err instanceof FhirHttpError) || err.status !== 401 || this.auth === undefined) throw err;
      this.auth.invalidate();
      return this.send<T>(method, relative, body, extraHeaders);
    }
  }

  private async send<T>(
    method: string,
    relative: string,
    body: unknown,
    extraHeaders: Record<string, string>,
  ): Promise<FhirResponse<T>> {
    const url = relative ? `${this.baseUrl}/${relative}` : this.baseUrl;
    const what = `${method} ${relative.split('?')[0] || '/'}`;
    const headers: Record<string, string> = { Accept: FHIR_JSON, ...this.headers, ...extraHeaders };
    if (body !== undefined) headers['Content-Type'] = `${FHIR_JSON}; charset=utf-8`;
    const authorization = await this.auth?.authorization();
    if (authorization !== undefined) headers.Authorization = authorization;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const timedOut = (err as { name?: string } | null)?.name === 'TimeoutError';
      const reason = timedOut
        ? `no answer within ${this.timeoutMs} ms`
        : describeNetworkError(err);
      throw new FhirNetworkError(`${what}: ${reason}`, timedOut, { cause: err });
    }
    const parsed = parseJson(text);
    if (!response.ok) {
      const outcome = isOperationOutcome(parsed) ? parsed : undefined;
      const detail = outcomeText(outcome) ?? response.statusText;
      throw new FhirHttpError(
        `${what} → ${response.status}${detail ? `: ${detail}` : ''}`,
        response.status,
        outcome,
        parseRetryAfter(response.headers.get('retry-after')),
      );
    }
    const result: FhirResponse<T> = { status: response.status };
    if (parsed !== undefined) result.resource = parsed as T;
    const location = response.headers.get('location') ?? response.headers.get('content-location');
    if (location !== null) result.location = location;
    const etag = response.headers.get('etag');
    if (etag !== null) result.etag = etag;
    return result;
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isOperationOutcome(value: unknown): value is OperationOutcomeJson {
  return typeof value === 'object' && value !== null && (value as { resourceType?: unknown }).resourceType === 'OperationOutcome';
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
