import { parseArgs } from 'node:util';
import { loadConfigOrReport } from './load-config.js';
import { daemonToken, daemonUrl, unauthorizedHint } from './republish.js';
import { EXIT, type Command } from './types.js';


interface Storage {
  state: 'ok' | 'failing' | 'stalled';
  since?: string;
  reason?: string;
}

interface StatusBody {
  /** Embedded mode only. */
  storage?: Storage;
  /** Embedded mode with the built-in endpoint: its index (ok, or stalled). */
  fhirIndex?: Storage;
  studies: Record<string, number>;
  queue: { instances: number; publishes: number; deadLetters?: number };
  fhirServer: string | null;
  oldestPending: { studyInstanceUid: string; lastReceivedAt: string; attempts: number; lastError: string | null } | null;
  recentFailures: { studyInstanceUid: string; lastReceivedAt: string; lastError: string | null }[];
}

/** 503: the daemon answers, its embedded store's reads fail too. */
interface UnansweredBody {
  storage: Storage;
  fhirIndex?: Storage;
  error: string;
}

/** `label` and the state: `ok`, or e.g. `stalled since …: reason`. */
function conditionLine(label: string, condition: Storage): string {
  if (condition.state === 'ok') return `${label}ok`;
  return `${label}${condition.state}${condition.since ? ` since ${condition.since}` : ''}${condition.reason ? `: ${condition.reason}` : ''}`;
}

const storageLine = (storage: Storage): string => conditionLine('storage:   ', storage);
const fhirIndexLines = (body: { fhirIndex?: Storage }): string[] => (body.fhirIndex ? [conditionLine('FHIR index: ', body.fhirIndex)] : []);

function render(body: StatusBody): string {
  const lines = [
    ...(body.storage ? [storageLine(body.storage)] : []),
    ...fhirIndexLines(body),
    `studies:   ${body.studies.pending ?? 0} pending, ${body.studies.published ?? 0} published, ${body.studies.failed ?? 0} failed`,
    `queues:    ${body.queue.instances} instances, ${body.queue.publishes} publishes waiting${
      body.queue.deadLetters ? `; ${body.queue.deadLetters} instance records dead-lettered (README, Operations)` : ''
    }`,
    `FHIR:      ${body.fhirServer ?? '(none: resources kept in the store)'}`,
  ];
  const oldest = body.oldestPending;
  lines.push(
    oldest
      ? `oldest pending: ${oldest.studyInstanceUid} (last instance ${oldest.lastReceivedAt}, ${oldest.attempts} attempts${oldest.lastError ? `, last error: ${oldest.lastError}` : ''})`
      : 'oldest pending: none',
  );
  if (body.recentFailures.length === 0) lines.push('recent failures: none');
  else {
    lines.push('recent failures:');
    for (const f of body.recentFailures) lines.push(`  ${f.studyInstanceUid}  ${f.lastReceivedAt}  ${f.lastError ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export const statusCommand: Command = {
  name: 'status',
  summary: "ask the running daemon for studies by state, the oldest pending, recent failures",
  usage: `dicom-fhir-bridge status [--config FILE] [--url URL] [--json]

Asks the running daemon's HTTP endpoint (GET /status at HTTP_HOST:HTTP_PORT
of the configuration, or --url; with the daemon's ADMIN_TOKEN) and prints the count of studies by publish
state, queue depth, the oldest pending study and the last 10 failures;
in embedded mode first whether the store's writes work (ok, or failing:
the disk refuses them, e.g. full, or stalled: it does not answer) and,
with the built-in FHIR endpoint, whether its index answers (ok, or stalled).
Exit 0 on an answer, 1 when the daemon cannot be reached or its store does
not answer (503: the storage line and the error are printed).`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, url: { type: 'string' }, json: { type: 'boolean' } },
    });
    let base = values.url;
    let token = daemonToken(undefined);
    if (!base) {
      const config = loadConfigOrReport(values.config);
      if (!config) return EXIT.config;
      base = daemonUrl(config.http);
      token = daemonToken(config);
    }
    let body: StatusBody;
    try {
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const res = await fetch(`${base.replace(/\/+$/, '')}/status`, { headers, signal: AbortSignal.timeout(10_000) });
      if (res.status === 401) {
        process.stderr.write(`GET /status → 401: ${unauthorizedHint(token)}\n`);
        return EXIT.failure;
      }
      if (res.status === 503) {
        const unanswered = (await res.json().catch(() => undefined)) as UnansweredBody | undefined;
        if (unanswered?.storage) {
          const text = [storageLine(unanswered.storage), ...fhirIndexLines(unanswered), `studies:   (the store did not answer: ${unanswered.error})`, ''].join('\n');
          process.stdout.write(values.json ? `${JSON.stringify(unanswered, null, 2)}\n` : text);
          return EXIT.failure;
        }
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as StatusBody;
    } catch (err) {
      process.stderr.write(`cannot reach the bridge at ${base}: ${(err as Error).message}\n`);
      return EXIT.failure;
    }
    process.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : render(body));
    return EXIT.ok;
  },
};
