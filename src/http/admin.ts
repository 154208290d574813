/**
 * Admin endpoints of the bridge's HTTP server (loopback by default), used by
 * `dicom-fhir-bridge republish`:
 *   POST /studies/{uid}/republish          → 202, the study is pending and its publish scheduled (404 unknown)
 *   POST /studies/republish?state=failed   → 202, every failed study likewise; body lists them
 * A republished study starts over (attempts 0, last error cleared; a publish
 * running meanwhile finishes pending); its publish follows the pipeline's debounce.
 */
import { send } from './send.js';
import { decodeSegment } from './request-target.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { JobQueue, PublishSchedule } from '../pipeline/job-queue.js';
import type { StudyStore } from '../pipeline/study-store.js';

export interface AdminDependencies {
  store: StudyStore;
  queue: Pick<JobQueue, 'schedulePublish'>;
  schedule: PublishSchedule;
  logger: Logger;
}

const BATCH = 1000;

/**
 * Starts the study's publishing over (StudyStore.republish: pending, attempts 0, last error
 * cleared, a publish under way finishes pending) and schedules its publish; undefined when the
 * study is unknown.
 */
export async function republishStudy(uid: string, deps: AdminDependencies): Promise<{ previousState: string } | undefined> {
  const previousState = await deps.store.republish(uid);
  if (previousState === undefined) return undefined;
  await deps.queue.schedulePublish(uid, deps.schedule);
  return { previousState };
}

/** Republishes every failed study; returns their UIDs. */
export async function republishFailed(deps: AdminDependencies): Promise<string[]> {
  const done: string[] = [];
  const seen = new Set<string>();
  for (;;) {
    // Each republished study leaves the failed state, so the next page is the rest.
    const page = (await deps.store.listSummaries({ state: 'failed', limit: BATCH })).filter((s) => !seen.has(s.studyInstanceUid));
    if (page.length === 0) return done;
    for (const s of page) {
      seen.add(s.studyInstanceUid);
      if (await republishStudy(s.studyInstanceUid, deps)) done.push(s.studyInstanceUid);
    }
  }
}

/**
 * Handles the admin routes; resolves true when it answered the request, false
 * when the path is not an admin route (the caller goes on routing).
 */
export async function handleAdminRequest(req: IncomingMessage, res: ServerResponse, deps: AdminDependencies, target?: URL): Promise<boolean> {
  const url = target ?? new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const bulk = path === '/studies/republish';
  const single = /^\/studies\/([^/]+)\/republish$/.exec(path);
  if (!bulk && !single) return false;
  req.resume(); // no body expected
  if (req.method !== 'POST') {
    send(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
    return true;
  }
  try {
    if (bulk) {
      const state = url.searchParams.get('state');
      if (state !== 'failed') {
        send(res, 400, { error: 'state=failed is required (only failed studies are republished in bulk)' });
        return true;
      }
      const uids = await republishFailed(deps);
      deps.logger.info({ count: uids.length }, 'failed studies republished');
      send(res, 202, { count: uids.length, studyInstanceUids: uids });
      return true;
    }
    const uid = decodeSegment(single![1]!);
    if (uid === undefined) {
      send(res, 400, { error: 'the study UID in the path is not valid percent-encoding' });
      return true;
    }
    const result = await republishStudy(uid, deps);
    if (!result) {
      send(res, 404, { error: `no study ${uid}` });
      return true;
    }
    deps.logger.info({ studyInstanceUid: uid, previousState: result.previousState }, 'study republished');
    send(res, 202, { studyInstanceUid: uid, previousState: result.previousState, publishState: 'pending' });
  } catch (err) {
    deps.logger.error({ err, path }, 'admin request failed');
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
  }
  return true;
}
