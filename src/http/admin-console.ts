/**
 * Routing of /admin (the console's page, admin-static.ts), /admin/api/session
 * (login and logout, admin-session.ts) and the rest of /admin/api/ (behind
 * the access model, admin-api.ts). Every answer: Cache-Control: no-store.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../errors.js';
import type { HttpAccess } from './access.js';
import { handleAdminApi, type AdminApiDependencies } from './admin-api.js';
import { isSameOrigin, type AdminSessions } from './admin-session.js';
import { serveAdminStatic } from './admin-static.js';
import { send } from './send.js';

export interface AdminConsoleDependencies extends AdminApiDependencies {
  access: HttpAccess;
  sessions: AdminSessions;
}

const MAX_LOGIN_BODY = 4096;

export const isAdminConsolePath = (path: string): boolean => path === '/admin' || path.startsWith('/admin/');

/** The token of a login body: JSON {"token": …} or a form (token=…). */
async function tokenOf(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_LOGIN_BODY) return undefined;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams(text).get('token') ?? undefined;
  try {
    const body: unknown = JSON.parse(text);
    const token = body !== null && typeof body === 'object' ? (body as { token?: unknown }).token : undefined;
    return typeof token === 'string' ? token : undefined;
  } catch {
    return undefined;
  }
}

async function session(req: IncomingMessage, res: ServerResponse, deps: AdminConsoleDependencies): Promise<void> {
  const { access, sessions } = deps;
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    req.resume();
    const decision = access.authorize(req, 'admin');
    return send(res, 200, { authenticated: decision.allowed, grant: decision.allowed ? decision.grant : null, tokenRequired: access.tokenRequired });
  }
  // Another site's page may not log the browser in or out (login CSRF); scripts send no Origin.
  const fromBrowser = req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined;
  if (fromBrowser && !isSameOrigin(req)) {
    req.resume();
    return send(res, 403, { error: 'cross-origin request refused' });
  }
  if (method === 'DELETE') {
    req.resume();
    return send(res, 200, { authenticated: false }, { 'set-cookie': sessions.close(req) });
  }
  if (method !== 'POST') {
    req.resume();
    return send(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD, POST, DELETE' });
  }
  if (!access.tokenRequired) {
    req.resume();
    return send(res, 200, { authenticated: true, grant: 'loopback', tokenRequired: false });
  }
  const token = await tokenOf(req);
  const grant = token === undefined ? undefined : access.checkToken(token, 'admin');
  if (grant === undefined) {
    deps.logger.warn({ path: '/admin/api/session' }, 'admin console login refused: wrong token');
    return send(res, 401, { error: 'wrong token' });
  }
  deps.logger.info('admin console login');
  send(res, 200, { authenticated: true, grant: 'session', tokenRequired: true }, { 'set-cookie': sessions.open() });
}

/**
 * Answers a request under /admin. `allowed` is the server's guard (answers
 * 401 and returns false when the access model refuses).
 */
export function serveAdminConsole(req: IncomingMessage, res: ServerResponse, url: URL, deps: AdminConsoleDependencies, allowed: () => boolean): void {
  res.setHeader('cache-control', 'no-store');
  const path = url.pathname;
  const fail = (err: unknown) => {
    deps.logger.error({ err: errorMessage(err), path }, 'admin console request failed');
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
  };
  if (path === '/admin/api/session') {
    session(req, res, deps).catch(fail);
    return;
  }
  if (path.startsWith('/admin/api/')) {
    if (!allowed()) return;
    handleAdminApi(req, res, url, deps).catch(fail);
    return;
  }
  req.resume();
  if (!serveAdminStatic(path, req.method ?? 'GET', res)) send(res, 404, { error: 'not found' });
}
