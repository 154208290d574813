/**
 * The admin console's page: the static files of src/http/admin/ (copied to
 * dist/http/admin/ by scripts/copy-lua.mjs), read once, served from memory.
 * They hold no patient data (that comes from the API), so they are open.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { send } from './send.js';

const DIR = new URL('./admin/', import.meta.url);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Nothing from elsewhere: no CDN, no inline script, no framing. */
export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

let files: Map<string, { body: Buffer; type: string }> | undefined;

function load(): Map<string, { body: Buffer; type: string }> {
  files ??= new Map(
    readdirSync(fileURLToPath(DIR))
      .filter((name) => TYPES[extname(name)] !== undefined)
      .map((name) => [name, { body: readFileSync(new URL(name, DIR)), type: TYPES[extname(name)]! }]),
  );
  return files;
}

/** Serves `/admin`, `/admin/` (index.html) and `/admin/{file}`; false when no such file. */
export function serveAdminStatic(path: string, method: string, res: ServerResponse): boolean {
  const name = path === '/admin' || path === '/admin/' ? 'index.html' : path.slice('/admin/'.length);
  const file = load().get(name);
  if (!file) return false;
  if (method !== 'GET' && method !== 'HEAD') {
    send(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
    return true;
  }
  res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, ...CONSOLE_HEADERS });
  res.end(method === 'HEAD' ? undefined : file.body);
  return true;
}
