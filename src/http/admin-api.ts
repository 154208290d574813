/**
 * The admin console's JSON API under /admin/api/ (README, "Admin console"),
 * used by the page and by scripts. Every route but /admin/api/session needs
 * the admin scope of the access model (bearer token, console session, or
 * loopback without a token); the caller (admin-console.ts) checks it.
 *
 *   GET  /admin/api/overview                 counts, queue, ingest per minute, reachability, recent studies
 *   GET  /admin/api/studies?…                one page of a search (StudyStore.searchSummaries)
 *   GET  /admin/api/studies/{uid}            series, instances, publish status and history, last resources
 *   POST /admin/api/studies/{uid}/republish  202, as POST /studies/{uid}/republish
 *   POST /admin/api/republish-failed         202, every failed study
 *   GET  /admin/api/peers                    configured AE titles and peers, calling AEs seen
 *   GET  /admin/api/config                   the effective configuration, secrets masked
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { JobQueue, PublishSchedule } from '../pipeline/job-queue.js';
import type { PublishState, StudySearch, StudyStore } from '../pipeline/study-store.js';
import type { IngestRate, PeerActivity } from './admin-activity.js';
import { republishFailed, republishStudy } from './admin.js';
import { send } from './send.js';

/** Whether a dependency answers, as the overview shows it. */
export interface Reachability {
  ok: boolean;
  /** What was checked, or why it failed (no secrets: masked URLs only). */
  detail: string;
}

export interface AdminApiDependencies {
  store: StudyStore;
  queue: JobQueue;
  schedule: PublishSchedule;
  logger: Logger;
  ingest: IngestRate;
  peers: PeerActivity;
  /** The effective configuration, secrets masked (config/mask.ts). */
  config: () => unknown;
  /** The configured AE titles and peers (masked), read at each request (SIGHUP reloads them). */
  dicom: () => { aeTitles: string[]; allowedCallers: string[]; peers: unknown[]; acceptsAny: boolean };
  /** Reachability of the FHIR server and (distributed mode) Redis. */
  reachability: () => Promise<Record<string, Reachability>>;
  mode: 'embedded' | 'distributed';
  /** The FHIR server, masked; undefined without one. */
  fhirTarget: string | undefined;
}

type Answer = { status: number; body: unknown };

const DEFAULT_PAGE = 25;

/** `2024-03-01` (an input type=date) or `20240301` → DICOM DA; anything else is left for the store to refuse. */
function da(value: string | null): string | undefined {
  if (value === null || value === '') return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value.replaceAll('-', '') : value;
}

function integer(value: string | null, fallback: number): number {
  return value === null || value === '' ? fallback : Number(value);
}

/** The search of the query string: uid, accession, patientId, state, dateFrom, dateTo, receivedFrom, receivedBefore, offset, limit. */
export function searchOf(params: URLSearchParams): { search: StudySearch; offset: number; limit: number } {
  const search: StudySearch = {};
  const text = (name: string) => params.get(name)?.trim() || undefined;
  const uid = text('uid');
  const accession = text('accession');
  const patientId = text('patientId');
  const state = text('state');
  if (uid !== undefined) search.studyInstanceUid = uid;
  if (accession !== undefined) search.accessionNumber = accession;
  if (patientId !== undefined) search.patientId = patientId;
  if (state !== undefined) search.state = state as PublishState;
  const from = da(params.get('dateFrom'));
  const to = da(params.get('dateTo'));
  if (from !== undefined) search.studyDateFrom = from;
  if (to !== undefined) search.studyDateTo = to;
  const receivedFrom = text('receivedFrom');
  const receivedBefore = text('receivedBefore');
  if (receivedFrom !== undefined) search.receivedFrom = receivedFrom;
  if (receivedBefore !== undefined) search.receivedBefore = receivedBefore;
  return { search, offset: integer(params.get('offset'), 0), limit: integer(params.get('limit'), DEFAULT_PAGE) };
}

async function overview(deps: AdminApiDependencies): Promise<Answer> {
  const [studies, queue, reachability, recent] = await Promise.all([
    deps.store.countByState(),
    deps.queue.depth(),
    deps.reachability(),
    deps.store.searchSummaries({}, { offset: 0, limit: 10 }),
  ]);
  return {
    status: 200,
    body: { mode: deps.mode, fhirServer: deps.fhirTarget ?? null, studies, queue, ingestPerMinute: deps.ingest.lastHour(), reachability, recent: recent.studies },
  };
}

async function studies(url: URL, deps: AdminApiDependencies): Promise<Answer> {
  const { search, offset, limit } = searchOf(url.searchParams);
  try {
    const page = await deps.store.searchSummaries(search, { offset, limit });
    return { status: 200, body: { offset, limit, ...page } };
  } catch (err) {
    if (err instanceof RangeError) return { status: 400, body: { error: err.message } };
    throw err;
  }
}

interface FhirLike {
  resourceType?: unknown;
  entry?: Array<{ resource?: FhirLike }>;
}

/** The ImagingStudy and the manifest (ImagingSelection / ImagingManifest / DocumentReference) of the last resource, when there. */
export function lastResources(last: unknown): { imagingStudy: unknown; manifest: unknown } {
  if (last === null || typeof last !== 'object') return { imagingStudy: null, manifest: null };
  const resource = last as FhirLike;
  if (resource.resourceType === 'ImagingStudy') return { imagingStudy: last, manifest: null };
  const entries = Array.isArray(resource.entry) ? resource.entry.map((e) => e?.resource).filter((r): r is FhirLike => !!r) : [];
  const find = (types: string[]) => entries.find((r) => typeof r.resourceType === 'string' && types.includes(r.resourceType)) ?? null;
  return { imagingStudy: find(['ImagingStudy']) ?? last, manifest: find(['ImagingSelection', 'ImagingManifest', 'DocumentReference']) };
}

async function study(uid: string, deps: AdminApiDependencies): Promise<Answer> {
  const [summary, state, history] = await Promise.all([deps.store.getSummary(uid), deps.store.getStudy(uid), deps.store.publishHistory(uid)]);
  if (!summary) return { status: 404, body: { error: `no study ${uid}` } };
  const { lastResource, ...publish } = summary.publish;
  return {
    status: 200,
    body: {
      studyInstanceUid: uid,
      numberOfSeries: summary.numberOfSeries,
      numberOfInstances: summary.numberOfInstances,
      firstReceivedAt: summary.firstReceivedAt,
      lastReceivedAt: summary.lastReceivedAt,
      publish,
      fhirServer: deps.fhirTarget ?? null,
      patient: state?.patient ?? null,
      study: state?.study ?? null,
      callingAeTitle: state?.lastReceipt.callingAeTitle ?? null,
      series: (state?.series ?? []).map((s) => ({ ...s.attributes, instances: s.instances })),
      history,
      ...lastResources(lastResource),
    },
  };
}

function peers(deps: AdminApiDependencies): Answer {
  return { status: 200, body: { ...deps.dicom(), seen: deps.peers.list(), seenBy: 'this process (memory; empty after a restart)' } };
}

/** Answers one /admin/api/ request other than /admin/api/session (the caller let it in). */
export async function handleAdminApi(req: IncomingMessage, res: ServerResponse, url: URL, deps: AdminApiDependencies): Promise<void> {
  const path = url.pathname.slice('/admin/api'.length);
  const method = req.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';
  req.resume(); // no route reads a body
  const only = (allow: string) => send(res, 405, { error: 'method not allowed' }, { allow });
  const reply = ({ status, body }: Answer) => send(res, status, body);

  const republishOne = /^\/studies\/([^/]+)\/republish$/.exec(path);
  if (republishOne) {
    if (method !== 'POST') return only('POST');
    const uid = decodeURIComponent(republishOne[1]!);
    const result = await republishStudy(uid, deps);
    if (!result) return send(res, 404, { error: `no study ${uid}` });
    deps.logger.info({ studyInstanceUid: uid, previousState: result.previousState }, 'study republished (admin console)');
    return send(res, 202, { studyInstanceUid: uid, previousState: result.previousState, publishState: 'pending' });
  }
  if (path === '/republish-failed') {
    if (method !== 'POST') return only('POST');
    const uids = await republishFailed(deps);
    deps.logger.info({ count: uids.length }, 'failed studies republished (admin console)');
    return send(res, 202, { count: uids.length, studyInstanceUids: uids });
  }
  if (!get) return only('GET, HEAD');
  if (path === '/overview') return reply(await overview(deps));
  if (path === '/studies') return reply(await studies(url, deps));
  const one = /^\/studies\/([^/]+)$/.exec(path);
  if (one) return reply(await study(decodeURIComponent(one[1]!), deps));
  if (path === '/peers') return reply(peers(deps));
  if (path === '/config') return reply({ status: 200, body: deps.config() });
  send(res, 404, { error: 'not found' });
}
