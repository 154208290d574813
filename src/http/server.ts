import { errorMessage } from '../errors.js';
import { send } from './send.js';
import { decodeSegment, parseTarget } from './request-target.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { JobQueue, PublishSchedule } from '../pipeline/job-queue.js';
import type { StorageCondition } from '../pipeline/pipeline.js';
import { isLoopbackHost } from '../config/loopback.js';
import { HttpAccess, type AccessDecision, type AccessScope } from './access.js';
import { handleAdminRequest } from './admin.js';
import { isAdminConsolePath, serveAdminConsole, type AdminConsoleDependencies } from './admin-console.js';
import { FHIR_MOUNT, handleFhirRequest, type FhirEndpointDependencies, type FhirIndexCondition } from '../fhir-endpoint/index.js';
import type { PublishState, StudyStore } from '../pipeline/study-store.js';

export interface HttpDependencies {
  store: StudyStore;
  queue: JobQueue;
  /** Ready: the SCP listens and the store is open. */
  isReady: () => boolean;
  /** The embedded store's condition (failing to write), in /readyz and /status; absent in distributed mode. */
  storage?: () => StorageCondition;
  /**
   * The built-in endpoint's index condition (stalled), in /status only (see
   * /readyz); absent when the endpoint is off or its index is in Redis.
   */
  fhirIndex?: () => FhirIndexCondition;
  logger: Logger;
  /** Whether resources are sent to a FHIR server (for /studies answers). */
  fhirTarget: string | undefined;
  /** Prometheus registry served at /metrics. */
  metrics?: Registry;
  /** Debounce of the publishes that POST /studies/{uid}/republish asks for. */
  schedule: PublishSchedule;
  /** The built-in FHIR endpoint at /fhir; absent when off. Its access is decided by `access`. */
  fhirEndpoint?: FhirEndpointDependencies;
  /**
   * Who may see patient data or change state (access.ts). Without one, only
   * connections that arrive on a loopback address are let in.
   */
  access?: HttpAccess;
  /** The admin console at /admin (admin-console.ts); absent: no console. */
  admin?: AdminConsoleDependencies;
}

interface Answer {
  status: number;
  body: unknown;
  /** Plain text (Prometheus exposition) instead of JSON. */
  contentType?: string;
}

type Handler = (url: URL, deps: HttpDependencies) => Promise<Answer>;

const PUBLISH_STATES: readonly PublishState[] = ['pending', 'published', 'failed'];

async function study(url: URL, deps: HttpDependencies): Promise<{ status: number; body: unknown }> {
  const uid = decodeSegment(url.pathname.slice('/studies/'.length));
  if (uid === undefined) return { status: 400, body: { error: 'the study UID in the path is not valid percent-encoding' } };
  const summary = await deps.store.getSummary(uid);
  if (!summary) return { status: 404, body: { error: `no study ${uid}` } };
  return {
    status: 200,
    body: {
      studyInstanceUid: summary.studyInstanceUid,
      numberOfSeries: summary.numberOfSeries,
      numberOfInstances: summary.numberOfInstances,
      firstReceivedAt: summary.firstReceivedAt,
      lastReceivedAt: summary.lastReceivedAt,
      publishState: summary.publish.state,
      attempts: summary.publish.attempts,
      lastError: summary.publish.lastError ?? null,
      publishedAt: summary.publish.publishedAt ?? null,
      fhirServer: deps.fhirTarget ?? null,
      resourceId: summary.publish.resourceId ?? null,
      lastResource: summary.publish.lastResource ?? null,
    },
  };
}

async function studies(url: URL, deps: HttpDependencies): Promise<{ status: number; body: unknown }> {
  const state = url.searchParams.get('state') ?? undefined;
  if (state !== undefined && !PUBLISH_STATES.includes(state as PublishState)) {
    return { status: 400, body: { error: `state must be one of ${PUBLISH_STATES.join(', ')}` } };
  }
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? 100 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    return { status: 400, body: { error: 'limit must be an integer from 1 to 10000' } };
  }
  const list = await deps.store.listSummaries({ state: state as PublishState | undefined, limit });
  return {
    status: 200,
    body: list.map((s) => ({
      studyInstanceUid: s.studyInstanceUid,
      numberOfSeries: s.numberOfSeries,
      numberOfInstances: s.numberOfInstances,
      lastReceivedAt: s.lastReceivedAt,
      publishState: s.publish.state,
      attempts: s.publish.attempts,
      lastError: s.publish.lastError ?? null,
    })),
  };
}

const fhirIndexOf = (deps: HttpDependencies): { fhirIndex?: FhirIndexCondition } => (deps.fhirIndex ? { fhirIndex: deps.fhirIndex() } : {});

/** What `dicom-fhir-bridge status` shows: studies by state, queue depth, the oldest pending, recent failures. */
async function status(_url: URL, deps: HttpDependencies): Promise<Answer> {
  let answers;
  try {
    answers = await Promise.all([
      deps.store.countByState(),
      deps.queue.depth(),
      deps.store.listSummaries({ state: 'pending', oldestFirst: true, limit: 1 }),
      deps.store.listSummaries({ state: 'failed', limit: 10 }),
    ]);
  } catch (err) {
    // A failing store whose reads fail too: what is known about it is the answer.
    const storage = deps.storage?.();
    if (storage === undefined || storage.state === 'ok') throw err;
    return { status: 503, body: { storage, ...fhirIndexOf(deps), error: errorMessage(err), fhirServer: deps.fhirTarget ?? null } };
  }
  const [studies, queue, [oldest], failures] = answers;
  return {
    status: 200,
    body: {
      ...(deps.storage ? { storage: deps.storage() } : {}),
      ...fhirIndexOf(deps),
      studies,
      queue,
      fhirServer: deps.fhirTarget ?? null,
      oldestPending: oldest
        ? {
            studyInstanceUid: oldest.studyInstanceUid,
            lastReceivedAt: oldest.lastReceivedAt,
            attempts: oldest.publish.attempts,
            lastError: oldest.publish.lastError ?? null,
          }
        : null,
      recentFailures: failures.map((f) => ({
        studyInstanceUid: f.studyInstanceUid,
        lastReceivedAt: f.lastReceivedAt,
        lastError: f.publish.lastError ?? null,
      })),
    },
  };
}

/** The paths that carry no patient data: open to anyone. */
function openRoute(url: URL): Handler | undefined {
  if (url.pathname === '/healthz') return async () => ({ status: 200, body: { status: 'ok' } });
  if (url.pathname === '/readyz') {
    // Not the FHIR index's stall (/status shows it): ready means C-STOREs are stored, which a stalled
    // fhir-index.sqlite does not stop, and a probe that took the bridge out of service would refuse them.
    return async (_u, deps) => {
      if (deps.isReady()) return { status: 200, body: { status: 'ready' } };
      const storage = deps.storage?.();
      return { status: 503, body: { status: 'not ready', ...(storage && storage.state !== 'ok' ? { storage } : {}) } };
    };
  }
  if (url.pathname === '/metrics') {
    return async (_u, deps) =>
      deps.metrics
        ? { status: 200, body: await deps.metrics.metrics(), contentType: deps.metrics.contentType }
        : { status: 404, body: { error: 'metrics are off' } };
  }
  return undefined;
}

/** Study data (patient data in lastError and lastResource): the admin scope. */
function protectedRoute(url: URL): Handler | undefined {
  if (url.pathname === '/status') return status;
  if (url.pathname === '/studies') return studies;
  if (url.pathname.startsWith('/studies/') && url.pathname.length > '/studies/'.length) return study;
  return undefined;
}

const isRepublish = (path: string): boolean => path === '/studies/republish' || /^\/studies\/[^/]+\/republish$/.test(path);
const isFhir = (path: string): boolean => path === FHIR_MOUNT || path.startsWith(`${FHIR_MOUNT}/`);

/** Answers 401 unless the access model lets the request in; answers of protected paths are never cached. */
function allowed(req: IncomingMessage, res: ServerResponse, deps: HttpDependencies, scope: AccessScope): boolean {
  const decision = decide(req, deps, scope);
  res.setHeader('cache-control', 'no-store');
  if (decision.allowed) return true;
  req.resume();
  for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
  send(res, 401, { error: decision.reason });
  return false;
}

/** Without an access model: the FHIR endpoint's token if any, and connections to a loopback address only. */
const fallbackAccess = new WeakMap<HttpDependencies, HttpAccess>();

function decide(req: IncomingMessage, deps: HttpDependencies, scope: AccessScope): AccessDecision {
  if (deps.access) return deps.access.authorize(req, scope);
  if (!isLoopbackHost(req.socket.localAddress ?? '')) {
    return { allowed: false, status: 401, reason: 'no access model: loopback connections only', headers: {} };
  }
  let access = fallbackAccess.get(deps);
  if (!access) {
    access = new HttpAccess({ host: '127.0.0.1', ...(deps.fhirEndpoint?.bearerToken ? { fhirToken: deps.fhirEndpoint.bearerToken } : {}) });
    fallbackAccess.set(deps, access);
  }
  return access.authorize(req, scope);
}

function fhirEndpointOf(deps: HttpDependencies): FhirEndpointDependencies | undefined {
  if (!deps.fhirEndpoint) return undefined;
  return {
    ...deps.fhirEndpoint,
    bearerToken: undefined,
    authorize: {
      tokenRequired: deps.access?.tokenRequired ?? deps.fhirEndpoint.bearerToken !== undefined,
      check: (req) => {
        const decision = decide(req, deps, 'fhir');
        return decision.allowed ? { allowed: true } : { allowed: false, reason: decision.reason, headers: decision.headers };
      },
    },
  };
}

/**
 * Health, readiness, metrics (open), study status, republish and the
 * built-in FHIR endpoint (behind the access model, access.ts). Binds where
 * HTTP_HOST says (loopback by default).
 */
export function createHttpServer(deps: HttpDependencies): Server {
  const fhirEndpoint = fhirEndpointOf(deps);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // No request, however malformed, may throw out of here: that would take the DICOM side down too.
    try {
      serve(req, res, deps, fhirEndpoint);
    } catch (err) {
      deps.logger.warn({ err: errorMessage(err), method: req.method }, 'bad HTTP request');
      req.resume();
      if (!res.headersSent) send(res, 400, { error: 'bad request' });
    }
  });
  // Node closes a CONNECT without a word unless someone listens: this is no proxy, say so.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  return server;
}

function serve(req: IncomingMessage, res: ServerResponse, deps: HttpDependencies, fhirEndpoint: FhirEndpointDependencies | undefined): void {
  const url = parseTarget(req.url ?? '/');
  if (url === undefined) {
    req.resume();
    return send(res, 400, { error: 'the request target is not a path or URL' });
  }
  const path = url.pathname;
  if (fhirEndpoint && isFhir(path)) {
    res.setHeader('cache-control', 'no-store');
    handleFhirRequest(req, res, fhirEndpoint, url);
    return;
  }
  if (deps.admin && isAdminConsolePath(path)) {
    serveAdminConsole(req, res, url, deps.admin, () => allowed(req, res, deps, 'admin'));
    return;
  }
  if (isRepublish(path)) {
    if (!allowed(req, res, deps, 'admin')) return;
    handleAdminRequest(req, res, { store: deps.store, queue: deps.queue, schedule: deps.schedule, logger: deps.logger }, url).catch((err: unknown) =>
      failed(res, deps, err, path, 'admin request failed'),
    );
    return;
  }
  const open = openRoute(url);
  const handler = open ?? protectedRoute(url);
  if (!handler) {
    req.resume();
    return send(res, 404, { error: 'not found' });
  }
  if (!open && !allowed(req, res, deps, 'admin')) return;
  req.resume(); // no body is read on these routes
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, { error: 'method not allowed' });
  }
  handler(url, deps)
    .then(({ status, body, contentType }) => send(res, status, body, {}, contentType))
    .catch((err: unknown) => failed(res, deps, err, path, 'http handler failed'));
}

/** A handler's own failure (the store, not the request): 500, logged once. */
function failed(res: ServerResponse, deps: HttpDependencies, err: unknown, path: string, what: string): void {
  deps.logger.error({ err, path }, what);
  if (!res.headersSent) send(res, 500, { error: 'internal error' });
  else res.destroy();
}
