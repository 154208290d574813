import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { JobQueue, PublishSchedule } from '../pipeline/job-queue.js';
import { handleAdminRequest } from './admin.js';
import { handleFhirRequest, type FhirEndpointDependencies } from '../fhir-endpoint/index.js';
import type { PublishState, StudyStore } from '../pipeline/study-store.js';

export interface HttpDependencies {
  store: StudyStore;
  queue: JobQueue;
  /** Ready: the SCP listens and the store is open. */
  isReady: () => boolean;
  logger: Logger;
  /** Whether resources are sent to a FHIR server (for /studies answers). */
  fhirTarget: string | undefined;
  /** Prometheus registry served at /metrics. */
  metrics?: Registry;
  /** Debounce of the publishes that POST /studies/{uid}/republish asks for. */
  schedule: PublishSchedule;
  /** The built-in FHIR endpoint at /fhir; absent when off. */
  fhirEndpoint?: FhirEndpointDependencies;
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
  const uid = decodeURIComponent(url.pathname.slice('/studies/'.length));
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

/** What `dicom-fhir-bridge status` shows: studies by state, queue depth, the oldest pending, recent failures. */
async function status(_url: URL, deps: HttpDependencies): Promise<Answer> {
  const [studies, queue, [oldest], failures] = await Promise.all([
    deps.store.countByState(),
    deps.queue.depth(),
    deps.store.listSummaries({ state: 'pending', oldestFirst: true, limit: 1 }),
    deps.store.listSummaries({ state: 'failed', limit: 10 }),
  ]);
  return {
    status: 200,
    body: {
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

function route(url: URL): Handler | undefined {
  if (url.pathname === '/healthz') return async () => ({ status: 200, body: { status: 'ok' } });
  if (url.pathname === '/readyz') {
    return async (_u, deps) =>
      deps.isReady() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'not ready' } };
  }
  if (url.pathname === '/metrics') {
    return async (_u, deps) =>
      deps.metrics
        ? { status: 200, body: await deps.metrics.metrics(), contentType: deps.metrics.contentType }
        : { status: 404, body: { error: 'metrics are off' } };
  }
  if (url.pathname === '/status') return status;
  if (url.pathname === '/studies') return studies;
  if (url.pathname.startsWith('/studies/') && url.pathname.length > '/studies/'.length) return study;
  return undefined;
}

function send(res: ServerResponse, status: number, body: unknown, contentType?: string): void {
  const text = contentType ? String(body) : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function admin(req: IncomingMessage, res: ServerResponse, deps: HttpDependencies): Promise<boolean> {
  return handleAdminRequest(req, res, { store: deps.store, queue: deps.queue, schedule: deps.schedule, logger: deps.logger });
}

/**
 * Health, readiness, metrics, study status, admin (republish) and the
 * built-in FHIR endpoint. Binds where HTTP_HOST says (loopback by default).
 */
export function createHttpServer(deps: HttpDependencies): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (deps.fhirEndpoint && handleFhirRequest(req, res, deps.fhirEndpoint)) return;
    admin(req, res, deps).then(
      (handled) => {
        if (!handled) serveStatus(req, res, deps);
      },
      (err: unknown) => {
        deps.logger.error({ err, path: req.url }, 'admin request failed');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      },
    );
  });
}

function serveStatus(req: IncomingMessage, res: ServerResponse, deps: HttpDependencies): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const handler = route(url);
  if (!handler) return send(res, 404, { error: 'not found' });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, { error: 'method not allowed' });
  }
  handler(url, deps).then(
    ({ status, body, contentType }) => send(res, status, body, contentType),
    (err: unknown) => {
      deps.logger.error({ err, path: url.pathname }, 'http handler failed');
      send(res, 500, { error: 'internal error' });
    },
  );
}
