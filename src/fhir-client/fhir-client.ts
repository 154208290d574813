/**
 * A small FHIR REST client on fetch. We keep our own rather than
 * fhir-kit-client because the publisher needs the HTTP status, Retry-After,
 * If-Match and a custom TLS dispatcher, which that library hides.
 * Authorization comes from an AuthProvider (auth/): a 401 drops its cached
 * token and the request is sent once more with a fresh one.
 */
import { errorMessage } from '../errors.js';
import type { Bundle } from '../fhir/types/bundle.js';
import type { OperationOutcomeIssue } from '../fhir/types/operation-outcome.js';
import type { FhirResource } from '../fhir/types/resource.js';
import type { AuthProvider } from './auth/auth-provider.js';
import { DEFAULT_MAX_RESPONSE_BYTES, readBody, type BodyText } from './read-body.js';

export type { Bundle, FhirResource };

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
  /** Largest response body read (FHIR_MAX_RESPONSE_BYTES); default DEFAULT_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** A successful response; `resource` is the body as the server sent it, typed as the request expects. */
export interface FhirResponse<T = FhirResource> {
  status: number;
  /** The parsed body, when there is one. */
  resource?: T;
  /** Location (or Content-Location) header. */
  location?: string;
  /** ETag header, e.g. W/"3". */
  etag?: string;
}

/**
 * An OperationOutcome as a server sent it: only its resourceType is checked,
 * so every element may be missing, and codes may be any version's.
 */
export interface OperationOutcomeJson {
  resourceType: 'OperationOutcome';
  issue?: Array<Partial<Omit<OperationOutcomeIssue, 'severity' | 'code'>> & { severity?: string; code?: string }>;
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

/**
 * The server answered, but not as a FHIR server does: a 2xx that is not the
 * expected resource (an HTML login page, invalid JSON, another resource type,
 * an empty body where one is required), or a redirect that is not followed.
 * Often a proxy or a misconfigured base URL in front of the real server:
 * retried, since nothing says the write arrived.
 */
export class FhirProtocolError extends Error {
  override readonly name = 'FhirProtocolError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Whether the same request may succeed later: network errors, timeouts, non-FHIR answers, 408, 429 and 5xx. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof FhirNetworkError || err instanceof FhirProtocolError) return true;
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
  private readonly maxResponseBytes: number;

  constructor(options: FhirClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    this.headers = { ...options.headers };
    this.fetchImpl = options.fetch ?? fetch;
    this.auth = options.auth;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /*
   * Each method is generic in the resource type T it sends or expects (default:
   * any resource as JSON); the `resourceType` argument is T's. A 2xx is
   * accepted only with the resource expected (FhirProtocolError otherwise);
   * writes may answer with no body (Prefer: return=minimal), or an
   * OperationOutcome: then `resource` is undefined and the caller reads back.
   */

  /** `PUT [base]/[type]/[id]`: update (or create with a client-assigned id); `ifMatch` e.g. W/"3". */
  update<T extends FhirResource>(
    resourceType: T['resourceType'],
    id: string,
    resource: T,
    options: { ifMatch?: string } = {},
  ): Promise<FhirResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers['If-Match'] = options.ifMatch;
    return this.request<T>('PUT', `${resourceType}/${encodeURIComponent(id)}`, writeOf(resourceType), { ...resource, id }, headers);
  }

  /** `POST [base]/[type]`, with `If-None-Exist: <query>` a conditional create (FHIR R4 3.1.0.8.1). */
  create<T extends FhirResource>(
    resourceType: T['resourceType'],
    resource: T,
    options: { ifNoneExist?: string } = {},
  ): Promise<FhirResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.ifNoneExist !== undefined) headers['If-None-Exist'] = options.ifNoneExist;
    return this.request<T>('POST', resourceType, writeOf(resourceType), resource, headers);
  }

  /** `PUT [base]/[type]?[query]`: update the one match, create when none (FHIR R4 3.1.0.4.3). */
  conditionalUpdate<T extends FhirResource>(
    resourceType: T['resourceType'],
    query: string,
    resource: T,
    options: { ifMatch?: string } = {},
  ): Promise<FhirResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers['If-Match'] = options.ifMatch;
    return this.request<T>('PUT', `${resourceType}?${query}`, writeOf(resourceType), resource, headers);
  }

  read<T extends FhirResource = FhirResource>(resourceType: T['resourceType'], id: string): Promise<FhirResponse<T>> {
    return this.request<T>('GET', `${resourceType}/${encodeURIComponent(id)}`, { types: [resourceType], bodyless: 'error' });
  }

  /** `GET [base]/[type]?[query]` → a searchset Bundle of T; the query as a string or as name/value pairs. */
  search<T extends FhirResource = FhirResource>(
    resourceType: T['resourceType'],
    query: string | Record<string, string> = '',
  ): Promise<FhirResponse<Bundle<T>>> {
    const qs = typeof query === 'string' ? query : new URLSearchParams(query).toString();
    return this.request<Bundle<T>>('GET', qs ? `${resourceType}?${qs}` : resourceType, BUNDLE);
  }

  /** `POST [base]` with a transaction (or batch) Bundle; the answer is its transaction-response Bundle. */
  transaction<T extends FhirResource>(bundle: Bundle<T>): Promise<FhirResponse<Bundle>> {
    return this.request<Bundle>('POST', '', BUNDLE, bundle);
  }

  /** `GET [base]/metadata`: the server's CapabilityStatement (Conformance before STU3). */
  metadata<T extends FhirResource = FhirResource>(): Promise<FhirResponse<T>> {
    return this.request<T>('GET', 'metadata', { types: ['CapabilityStatement', 'Conformance'], bodyless: 'error' });
  }

  private async request<T>(
    method: string,
    relative: string,
    expected: Expected,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<FhirResponse<T>> {
    try {
      return await this.send<T>(method, relative, expected, body, extraHeaders);
    } catch (err) {
      // A 401 may be an expired or revoked token: drop it and try once more with a fresh one.
      if (!(err instanceof FhirHttpError) || err.status !== 401 || this.auth === undefined) throw err;
      this.auth.invalidate();
      return this.send<T>(method, relative, expected, body, extraHeaders);
    }
  }

  private async send<T>(
    method: string,
    relative: string,
    expected: Expected,
    body: unknown,
    extraHeaders: Record<string, string>,
  ): Promise<FhirResponse<T>> {
    let url = relative ? `${this.baseUrl}/${relative}` : this.baseUrl;
    const what = `${method} ${relative.split('?')[0] || '/'}`;
    const headers: Record<string, string> = { Accept: FHIR_JSON, ...this.headers, ...extraHeaders };
    if (body !== undefined) headers['Content-Type'] = `${FHIR_JSON}; charset=utf-8`;
    const authorization = await this.auth?.authorization();
    if (authorization !== undefined) headers.Authorization = authorization;
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    let answer: BodyText;
    for (let hop = 0; ; hop++) {
      try {
        // Redirects by hand: fetch would carry FHIR_HEADERS (x-api-key, ...) to whatever origin they name.
        response = await this.fetchImpl(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
          redirect: 'manual',
        });
        answer = await readBody(response, this.maxResponseBytes);
      } catch (err) {
        const timedOut = (err as { name?: string } | null)?.name === 'TimeoutError';
        const reason = timedOut
          ? `no answer within ${this.timeoutMs} ms`
          : describeNetworkError(err);
        throw new FhirNetworkError(`${what}: ${reason}`, timedOut, { cause: err });
      }
      if (response.status < 300 || response.status >= 400 || response.status === 304) break;
      url = this.redirectTarget(what, method, url, response, hop);
    }
    const { text, tooLarge } = answer;
    if (tooLarge && response.ok) {
      const size = tooLarge.declared !== undefined ? ` (Content-Length ${tooLarge.declared})` : '';
      throw new FhirProtocolError(`${what} → ${response.status}: the answer is larger than ${this.maxResponseBytes} bytes${size} (FHIR_MAX_RESPONSE_BYTES), not read`, response.status);
    }
    // An error status stands on its own: a body over the cap is dropped, not an error of its own.
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
    const resource = acceptedResource(what, response, text, parsed, expected);
    if (resource !== undefined) result.resource = resource as T;
    const location = response.headers.get('location') ?? response.headers.get('content-location');
    if (location !== null) result.location = location;
    const etag = response.headers.get('etag');
    if (etag !== null) result.etag = etag;
    return result;
  }

  /**
   * Where a 3xx sends the request: only to the configured server's origin
   * (it carries credentials and FHIR_HEADERS), with the same method and body
   * (307, 308; 301-303 only for a GET), at most MAX_REDIRECTS hops.
   */
  private redirectTarget(what: string, method: string, url: string, response: Response, hop: number): string {
    const status = response.status;
    const fail = (reason: string) => new FhirProtocolError(`${what} → ${status}: ${reason}`, status);
    const location = response.headers.get('location');
    if (location === null) throw fail('a redirect without Location');
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw fail('a redirect to an invalid URL');
    }
    if (next.origin !== new URL(this.baseUrl).origin) {
      throw fail(`a redirect to another origin (${next.origin}), not followed: credentials and FHIR_HEADERS go only to ${new URL(this.baseUrl).origin}`);
    }
    if (hop >= MAX_REDIRECTS) throw fail(`more than ${MAX_REDIRECTS} redirects`);
    if (status !== 307 && status !== 308 && method !== 'GET') throw fail(`a ${method} redirected with ${status} (the body would be dropped), not followed`);
    return next.href;
  }
}

const MAX_REDIRECTS = 5;

/** What a 2xx must carry: one of `types`; with no resource (empty body, or an OperationOutcome), whether that is allowed. */
interface Expected {
  types: readonly string[];
  bodyless: 'allowed' | 'error';
}

const BUNDLE: Expected = { types: ['Bundle'], bodyless: 'error' };

/** A write's answer: the resource written, or nothing (return=minimal / return=OperationOutcome). */
function writeOf(resourceType: string): Expected {
  return { types: [resourceType], bodyless: 'allowed' };
}

/** The resource of a 2xx, when it is one of those expected; undefined for an allowed bodyless answer; else FhirProtocolError. */
function acceptedResource(what: string, response: Response, text: string, parsed: unknown, expected: Expected): unknown {
  const fail = (reason: string) => new FhirProtocolError(`${what} → ${response.status}: ${reason}, not the ${expected.types.join(' or ')} expected`, response.status);
  if (text.trim() === '' || response.status === 204) {
    if (expected.bodyless === 'allowed') return undefined;
    throw fail('an empty body');
  }
  if (parsed === undefined) {
    const type = (response.headers.get('content-type') ?? 'no content type').split(';')[0]!.trim().slice(0, 60);
    throw fail(`a body that is not JSON (${type})`);
  }
  const resourceType = (parsed as { resourceType?: unknown } | null)?.resourceType;
  if (typeof resourceType === 'string' && expected.types.includes(resourceType)) return parsed;
  if (resourceType === 'OperationOutcome' && expected.bodyless === 'allowed') return undefined;
  // The server's text is not quoted: it may be anything, patient data included.
  const named = typeof resourceType === 'string' && /^[A-Za-z]{1,64}$/.test(resourceType) ? `a ${resourceType}` : 'JSON that is not a FHIR resource';
  throw fail(named);
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
  return errorMessage(err);
}
