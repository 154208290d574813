/**
 * The read-only FHIR REST endpoint (http.html): mounted under `/fhir` on the
 * bridge's HTTP server by `handleFhirRequest(req, res, deps)`.
 *
 *   GET /fhir/metadata                 CapabilityStatement
 *   GET /fhir/ImagingStudy/{id}        read  (also Patient, Endpoint, and the
 *                                      key images of KOS: R5 ImagingSelection,
 *                                      STU3 ImagingManifest, R4 Basic when
 *                                      keyImages is 'extensions')
 *   GET /fhir/ImagingStudy?…           search-type → searchset Bundle
 *   GET /fhir/DocumentReference?…      with manifests (FHIR_MANIFEST=mado): the MADO
 *                                      search parameters; GET /fhir/Bundle/{id} the manifest
 *
 * Answers are application/fhir+json; errors are OperationOutcomes (400
 * invalid search or path encoding, 400 too-costly beyond the search limits of
 * search-parameters.ts, 401 missing/wrong bearer token, 404 unknown type or
 * id, 405 any method but GET/HEAD; 503 timeout while the index's storage
 * does not answer: remote-resource-index.ts). Nothing here writes; nothing a
 * client sends makes it answer 500 (that is the index failing).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { keyImageResourceType, type R4KeyImages } from '../fhir/map-key-images.js';
import type { FhirVersion } from '../fhir/mapping-options.js';
import type { Bundle } from '../fhir/types/bundle.js';
import type { FhirResource, ResourceIndex } from './resource-index.js';
import { FHIR_ID } from '../fhir/resource-ids.js';
import { isStorageStalled } from '../pipeline/sqlite/storage-health.js';
import { searchsetBundle, subsetElements } from './bundle.js';
import { capabilityStatement, type CapabilityStatement } from './capability-statement.js';
import { FhirError, operationOutcome } from './operation-outcome.js';
import { DOCUMENT_REFERENCE_SEARCH_PARAMETERS } from './document-reference-parameters.js';
import { parseImagingStudySearch, SearchParseError } from './search-parameters.js';

export const FHIR_MOUNT = '/fhir';

/** Who may read the endpoint: decided per request by the HTTP listener's access model. */
export interface FhirAuthorizer {
  /** Whether requests need a credential (advertised in the CapabilityStatement). */
  tokenRequired: boolean;
  check(req: IncomingMessage): { allowed: true } | { allowed: false; reason: string; headers: Record<string, string> };
}
export const FHIR_CONTENT_TYPE = 'application/fhir+json; charset=utf-8';

export interface FhirEndpointDependencies {
  index: ResourceIndex;
  /** The configured FHIR version of the generated resources. */
  fhirVersion: FhirVersion;
  /** R4: whether key images are Basic resources (fhir.keyImages); default 'off'. */
  keyImages?: R4KeyImages;
  /** IANA zone for search dates without offset (the configured site timezone); default UTC. */
  timezone?: string;
  /** When set, every request needs `Authorization: Bearer <token>` (standalone use; the bridge passes `authorize`). */
  bearerToken?: string;
  /** The HTTP listener's access model (src/http/access.ts); when given it decides instead of `bearerToken`. */
  authorize?: FhirAuthorizer;
  /** Public base URL of the endpoint (e.g. https://bridge.example/fhir); default http://<Host>/fhir. */
  baseUrl?: string;
  softwareVersion?: string;
  /** R4 with FHIR_MANIFEST=mado: the MADO manifests (Bundle read, DocumentReference read and search). */
  manifests?: boolean;
  logger?: Logger;
}

/** The resource types the endpoint reads: the ImagingStudy, its Patient and Endpoint, and the key-image type of the version. */
export function readableTypes(version: FhirVersion, keyImages: R4KeyImages = 'off', manifests = false): string[] {
  const keyImageType = keyImageResourceType(version, keyImages);
  return ['ImagingStudy', 'Patient', 'Endpoint', ...(keyImageType ? [keyImageType] : []), ...(manifests ? ['DocumentReference', 'Bundle'] : [])];
}

/** The resource types the endpoint searches. */
const SEARCHABLE = new Set(['ImagingStudy', 'DocumentReference']);

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': FHIR_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison of the presented bearer token (digests have equal length). */
function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  const presented = m ? m[1]!.trim() : '';
  const ok = timingSafeEqual(digest(presented), digest(token));
  return ok && m !== null;
}

function baseUrlOf(req: IncomingMessage, deps: FhirEndpointDependencies): string {
  if (deps.baseUrl) return deps.baseUrl.replace(/\/+$/, '');
  return `http://${req.headers.host ?? 'localhost'}${FHIR_MOUNT}`;
}

function isLenient(req: IncomingMessage): boolean {
  const prefer = req.headers.prefer;
  const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  return /(^|[,;\s])handling\s*=\s*"?lenient"?/i.test(text);
}

function queryString(params: Array<[string, string]>): string {
  return params.map(([k, v]) => `${encodeURIComponent(k).replace(/%3A/gi, ':')}=${encodeURIComponent(v)}`).join('&');
}

async function search(req: IncomingMessage, url: URL, deps: FhirEndpointDependencies, base: string, type = 'ImagingStudy'): Promise<Bundle> {
  let parsed;
  try {
    parsed = parseImagingStudySearch(url.searchParams, {
      version: deps.fhirVersion,
      timezone: deps.timezone ?? 'UTC',
      lenient: isLenient(req),
      ...(type === 'DocumentReference' ? { parameters: DOCUMENT_REFERENCE_SEARCH_PARAMETERS } : {}),
    });
  } catch (err) {
    if (err instanceof SearchParseError) throw new FhirError(400, err.code, err.message);
    throw err;
  }
  const { search: query, totalOnly, elements, applied } = parsed;
  const result = await deps.index.search(type, totalOnly ? { ...query, count: 0 } : query);
  const link = (offset: number): string => {
    const params: Array<[string, string]> = [...applied, ['_count', String(query.count)]];
    if (offset > 0) params.push(['_offset', String(offset)]);
    return `${base}/${type}?${queryString(params)}`;
  };
  const { count, offset } = query;
  const hasNext = !totalOnly && count > 0 && offset + count < result.total;
  const resources = elements ? result.resources.map((r) => subsetElements(r, elements, deps.fhirVersion)) : result.resources;
  return searchsetBundle({
    total: result.total,
    resources,
    baseUrl: base,
    selfUrl: link(offset),
    nextUrl: hasNext ? link(offset + count) : undefined,
    previousUrl: !totalOnly && count > 0 && offset > 0 ? link(Math.max(0, offset - count)) : undefined,
    totalOnly,
  });
}

/** A 200 answer: the CapabilityStatement, a searchset, or a resource read from the index (as stored). */
async function answer(req: IncomingMessage, url: URL, deps: FhirEndpointDependencies): Promise<CapabilityStatement | Bundle | FhirResource> {
  const base = baseUrlOf(req, deps);
  const parts = url.pathname.slice(FHIR_MOUNT.length).split('/').filter((p) => p !== '');
  if (parts.length === 1 && parts[0] === 'metadata') {
    return capabilityStatement({
      version: deps.fhirVersion,
      baseUrl: base,
      softwareVersion: deps.softwareVersion,
      bearerToken: deps.authorize ? deps.authorize.tokenRequired : deps.bearerToken !== undefined,
      keyImages: deps.keyImages,
      manifests: deps.manifests,
    });
  }
  const decoded = parts.map(decodeSegment);
  if (decoded.some((p) => p === undefined)) throw new FhirError(400, 'invalid', 'a path segment is not valid percent-encoding (UTF-8)');
  const [type, id, ...rest] = decoded as string[];
  const readable = readableTypes(deps.fhirVersion, deps.keyImages, deps.manifests);
  if (type === undefined || !readable.includes(type)) {
    throw new FhirError(404, 'not-found', `unknown resource type '${type ?? ''}' (supported: ${readable.join(', ')})`);
  }
  if (rest.length > 0) throw new FhirError(404, 'not-found', `'${url.pathname}' is not supported (read and search only)`);
  if (id === undefined) {
    if (!SEARCHABLE.has(type)) throw new FhirError(400, 'not-supported', `search is supported on ${readable.filter((t) => SEARCHABLE.has(t)).join(' and ')} only; ${type} supports read`);
    return search(req, url, deps, base, type);
  }
  if (!FHIR_ID.test(id)) throw new FhirError(404, 'not-found', `'${id}' is not a valid FHIR id`);
  const resource = await deps.index.read(type, id);
  if (!resource) throw new FhirError(404, 'not-found', `${type}/${id} is not known`);
  return resource;
}

/** A percent-decoded path segment; undefined when the encoding is not valid. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The request target as a URL (an origin-form target is a path, `//x` too); undefined when it does not parse. */
function targetOf(req: IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  try {
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target, 'http://localhost');
  } catch {
    return undefined;
  }
}

/**
 * Handles requests under `/fhir` (returns true) and leaves others to the
 * caller (returns false). The answer is written asynchronously. `target` is
 * the request target as the caller parsed it (parsed here when absent).
 */
export function handleFhirRequest(req: IncomingMessage, res: ServerResponse, deps: FhirEndpointDependencies, target?: URL): boolean {
  const url = target ?? targetOf(req);
  if (url === undefined) return false;
  if (url.pathname !== FHIR_MOUNT && !url.pathname.startsWith(`${FHIR_MOUNT}/`)) return false;
  const fail = (err: FhirError) => send(req, res, err.status, operationOutcome(err.code, err.message), err.headers);
  if (deps.authorize) {
    const decision = deps.authorize.check(req);
    if (!decision.allowed) {
      req.resume();
      fail(new FhirError(401, 'login', `missing or wrong bearer token: ${decision.reason}`, decision.headers));
      return true;
    }
  } else if (deps.bearerToken !== undefined && !authorized(req, deps.bearerToken)) {
    req.resume();
    fail(new FhirError(401, 'login', 'missing or wrong bearer token', { 'www-authenticate': 'Bearer realm="fhir"' }));
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    fail(new FhirError(405, 'not-supported', `${req.method ?? ''} is not allowed: this FHIR endpoint is read-only`, { allow: 'GET, HEAD' }));
    req.resume();
    return true;
  }
  answer(req, url, deps)
    .then((body) => send(req, res, 200, body))
    .catch((err: unknown) => {
      let error: FhirError;
      if (err instanceof FhirError) error = err;
      // The disk under the index does not answer (frozen): an answer now, not a request that hangs.
      else if (isStorageStalled(err)) error = new FhirError(503, 'timeout', (err as Error).message);
      else {
        // The index failed, not the request. The path only: the query may carry patient identifiers.
        deps.logger?.error({ err, path: url.pathname }, 'FHIR request failed');
        error = new FhirError(500, 'exception', 'internal error');
      }
      if (res.headersSent) res.destroy();
      else fail(error);
    });
  return true;
}
