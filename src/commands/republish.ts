import { parseArgs } from 'node:util';
import { loadConfigOrReport } from './load-config.js';
import { EXIT, type Command } from './types.js';

const CONCURRENCY = 4;

/** http://HTTP_HOST:HTTP_PORT of the running daemon (a wildcard host is reached on loopback). */
export function daemonUrl(http: { host: string; port: number }): string {
  const host = http.host === '0.0.0.0' || http.host === '' ? '127.0.0.1' : http.host === '::' ? '::1' : http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${http.port}`;
}

/**
 * The token the daemon wants (src/http/access.ts): ADMIN_TOKEN, else
 * FHIR_ENDPOINT_BEARER_TOKEN, from the configuration or, with --url and no
 * configuration, from the environment.
 */
export function daemonToken(config: { http: { adminToken?: string }; fhirEndpoint: { bearerToken?: string } } | undefined): string | undefined {
  if (config) return config.http.adminToken ?? config.fhirEndpoint.bearerToken;
  const env = process.env;
  return env.ADMIN_TOKEN?.trim() || env.FHIR_ENDPOINT_BEARER_TOKEN?.trim() || undefined;
}

/** What to say when the daemon answers 401. */
export function unauthorizedHint(token: string | undefined): string {
  return token === undefined
    ? 'the bridge requires a token: set ADMIN_TOKEN (as the daemon has it) in the environment or the configuration'
    : 'the bridge refused the token: ADMIN_TOKEN differs from the daemon\'s';
}

/** `[#####     ] n/N` */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`;
}

class Unreachable extends Error {}

async function call(base: string, method: string, path: string, token: string | undefined): Promise<{ status: number; body: any }> {
  let res: Response;
  try {
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    res = await fetch(`${base}${path}`, { method, headers, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new Unreachable(`cannot reach the bridge at ${base} (${code}): is it running? (--url to point elsewhere)`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

export const republishCommand: Command = {
  name: 'republish',
  summary: 'publish studies again (one by UID, or every failed one) through the running daemon',
  usage: `dicom-fhir-bridge republish [--config FILE] [--url URL] STUDY_UID...
dicom-fhir-bridge republish [--config FILE] [--url URL] --failed

Asks the running daemon (its HTTP endpoints, POST /studies/{uid}/republish)
to mark the studies pending and publish them again, e.g. after fixing what
made the FHIR server refuse them (see GET /studies?state=failed).

  --failed     every study in the failed state
  --url URL    the daemon's HTTP address; default http://HTTP_HOST:HTTP_PORT
               from the configuration (a 0.0.0.0 host is reached on 127.0.0.1)
  --config F   configuration file (else BRIDGE_CONFIG and the environment)

The daemon's token (ADMIN_TOKEN) is sent when the configuration or, with
--url, the environment has it.

Progress goes to stderr: a bar when stderr is a terminal, one line per study
otherwise. Exit 0 when every study was scheduled; 1 when the daemon is not
reachable or a study is unknown or refused; 2 on configuration errors;
64 on usage errors.`,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { config: { type: 'string', short: 'c' }, url: { type: 'string' }, failed: { type: 'boolean', default: false } },
      });
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return EXIT.usage;
    }
    const { values, positionals } = parsed;
    if (values.failed === (positionals.length > 0)) {
      process.stderr.write('give either study UIDs or --failed (see republish --help)\n');
      return EXIT.usage;
    }
    let base = values.url?.replace(/\/+$/, '');
    let token = daemonToken(undefined);
    if (base === undefined) {
      const config = loadConfigOrReport(values.config);
      if (!config) return EXIT.config;
      base = daemonUrl(config.http);
      token = daemonToken(config);
    }
    try {
      let uids = positionals;
      if (values.failed) {
        const list = await call(base, 'GET', '/studies?state=failed&limit=10000', token);
        if (list.status === 401) {
          process.stderr.write(`GET /studies?state=failed → 401: ${unauthorizedHint(token)}\n`);
          return EXIT.failure;
        }
        if (list.status !== 200 || !Array.isArray(list.body)) {
          process.stderr.write(`GET /studies?state=failed → ${list.status}: ${JSON.stringify(list.body)}\n`);
          return EXIT.failure;
        }
        uids = (list.body as { studyInstanceUid: string }[]).map((s) => s.studyInstanceUid);
        if (uids.length === 0) {
          process.stdout.write('no failed studies\n');
          return EXIT.ok;
        }
      }
      const tty = process.stderr.isTTY === true;
      const problems: string[] = [];
      let done = 0;
      let next = 0;
      const report = (uid: string, ok: boolean, detail: string) => {
        done += 1;
        if (!ok) problems.push(`${uid}: ${detail}`);
        if (tty) process.stderr.write(`\r${progressBar(done, uids.length)}`);
        else process.stderr.write(`${done}/${uids.length} ${uid} ${ok ? 'scheduled' : `not scheduled: ${detail}`}\n`);
      };
      const worker = async () => {
        while (next < uids.length) {
          const uid = uids[next++]!;
          const answer = await call(base!, 'POST', `/studies/${encodeURIComponent(uid)}/republish`, token);
          const detail =
            answer.status === 404 ? 'unknown study' : answer.status === 401 ? `HTTP 401: ${unauthorizedHint(token)}` : `HTTP ${answer.status} ${JSON.stringify(answer.body)}`;
          report(uid, answer.status === 202, detail);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, uids.length) }, worker));
      if (tty) process.stderr.write('\n');
      for (const p of problems) process.stderr.write(`${p}\n`);
      const scheduled = uids.length - problems.length;
      process.stdout.write(`${scheduled} ${scheduled === 1 ? 'study' : 'studies'} scheduled for republish\n`);
      return problems.length === 0 ? EXIT.ok : EXIT.failure;
    } catch (err) {
      if (err instanceof Unreachable) {
        process.stderr.write(`${err.message}\n`);
        return EXIT.failure;
      }
      throw err;
    }
  },
};
