import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { errorMessage } from '../errors.js';
import type { BridgeConfig } from '../config/schema.js';
import { readFileSync } from 'node:fs';
import { DicomwebSource } from '../import/dicomweb-source.js';
import { DimseSource } from '../import/dimse-source.js';
import { TlsFileError, readClientTlsFiles, type ClientTlsOptions } from '../dimse/tls.js';
import { FilesSource } from '../import/files-source.js';
import { formatSummary, progressWriter } from '../import/progress.js';
import { runImport } from '../import/runner.js';
import type { ImportFilters, ImportSource } from '../import/source.js';
import { openPipeline } from '../pipeline/open-pipeline.js';
import { DataDirError } from '../pipeline/sqlite/index.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { loadConfigOrReport } from './load-config.js';
import { EXIT, type Command } from './types.js';

const USAGE = `dicom-fhir-bridge import: backfill the bridge from an existing archive

usage: dicom-fhir-bridge import dicomweb [options] BASE-URL
       dicom-fhir-bridge import dimse [options] AET@HOST:PORT
       dicom-fhir-bridge import files [options] PATH...

sources:
  dicomweb BASE-URL      a DICOMweb server, e.g. http://pacs:8042/dicom-web:
                         QIDO-RS /studies with the filters, then WADO-RS
                         /studies/{uid}/metadata per study (never pixel data)
  dimse AET@HOST:PORT    a C-FIND SCP (PACS) with called AE title AET:
                         Study Root C-FIND at STUDY level with the filters,
                         then per study SERIES and IMAGE levels, asking at
                         each level for every attribute the mapping uses;
                         what the SCP does not return stays absent
  files PATH...          DICOM Part 10 files and folders (recursive); a file
                         named DICOMDIR is read as the files it references

filters (a study is imported when it passes all of them):
  --study UID            Study Instance UID (repeatable)
  --since YYYYMMDD       Study Date on or after
  --until YYYYMMDD       Study Date on or before
  --modality CODE        a series of this modality (repeatable), e.g. CT
  --patient-id ID        Patient ID

DICOMweb options:
  --token-file FILE      send the token in FILE as Authorization: Bearer
  --basic-auth-file FILE send USER:PASSWORD in FILE as basic authentication
  --ca-file FILE         PEM CA bundle trusted instead of the system's (https)
  --cert-file FILE       PEM client certificate, with --key-file (mutual TLS)
  --key-file FILE        PEM private key of --cert-file

C-FIND (dimse) options:
  --calling-aet AET      our calling AE title (default: the first of
                         DICOM_AET); the SCP may have to know it
  --timeout MS           each wait: connect and TLS handshake, A-ASSOCIATE-AC,
                         every C-FIND response, A-RELEASE-RP (default 30000)
  --tls                  DICOM TLS (BCP 195: TLS 1.2 or later); the server
                         certificate is checked against --ca-file (or Node's
                         CA bundle) and HOST (or --servername)
  --servername NAME      name checked against the SCP's certificate
  --ca-file, --cert-file, --key-file   as for DICOMweb, with --tls

options:
  --concurrency N        studies (files: files read) at a time, default 2;
                         dimse: associations at a time besides the listing's
  --rate S               at most S studies started per second
  --resume               skip the studies this same command (source and
                         filters) already queued, from its checkpoints in
                         the store; without it the run starts over
  --dry-run              list and count only: queues nothing, opens no store
  --config FILE          configuration file (else BRIDGE_CONFIG and the
                         environment): the same as for start

Records go into the durable queue of the configured mode, the one C-STORE
fills: a running daemon aggregates and publishes them, a stopped one at its
next start. An imported value never replaces one received by C-STORE, and
an attribute the source lacks erases nothing (README, Merge rules).

Embedded mode (no REDIS_URL): DATA_DIR belongs to one process, so import
while the daemon is stopped; it publishes what was imported when it starts.
With REDIS_URL, import while the daemon runs.

Progress goes to stderr (a bar on a terminal, one line per study otherwise),
the summary to stdout. Ctrl-C stops after the studies under way are queued;
run the same command with --resume to continue. For dimse, the C-FIND
under way is cancelled (C-CANCEL-RQ) and its final response awaited before
the association is released.

exit codes:
  0   every study found was queued (or, with --dry-run, counted)
  1   some studies or files failed (listed with the reason), the import was
      interrupted, or the store cannot be opened (DATA_DIR held by the daemon)
  2   usage or configuration error`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  study: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  modality: { type: 'string', multiple: true },
  'patient-id': { type: 'string' },
  concurrency: { type: 'string' },
  rate: { type: 'string' },
  resume: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  'token-file': { type: 'string' },
  'basic-auth-file': { type: 'string' },
  'ca-file': { type: 'string' },
  'cert-file': { type: 'string' },
  'key-file': { type: 'string' },
  'calling-aet': { type: 'string' },
  timeout: { type: 'string' },
  tls: { type: 'boolean', default: false },
  servername: { type: 'string' },
} as const;

class UsageError extends Error {}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const DATE = /^\d{8}$/;

function filtersOf(values: Values): ImportFilters {
  for (const [flag, value] of [['--since', values.since], ['--until', values.until]] as const) {
    if (value !== undefined && !DATE.test(value)) throw new UsageError(`${flag} ${value}: give a date as YYYYMMDD`);
  }
  return {
    studyInstanceUids: values.study ?? [],
    modalities: (values.modality ?? []).map((m) => m.toUpperCase()),
    ...(values.since !== undefined ? { since: values.since } : {}),
    ...(values.until !== undefined ? { until: values.until } : {}),
    ...(values['patient-id'] !== undefined ? { patientId: values['patient-id'] } : {}),
  };
}

function positiveNumber(flag: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} ${value}: give a positive ${integer ? 'integer' : 'number'}`);
  return n;
}

/** A secret from a file (not the command line, which `ps` shows), trimmed. */
function secret(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
}

function authorizationOf(values: Values): string | undefined {
  if (values['token-file'] !== undefined && values['basic-auth-file'] !== undefined) throw new UsageError('give --token-file or --basic-auth-file, not both');
  if (values['token-file'] !== undefined) return `Bearer ${secret('--token-file', values['token-file'])}`;
  if (values['basic-auth-file'] !== undefined) {
    const credentials = secret('--basic-auth-file', values['basic-auth-file']);
    if (!credentials.includes(':')) throw new UsageError('--basic-auth-file: the file holds USER:PASSWORD');
    return `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return undefined;
}

/** The source of `import <kind> ARGS...`. */
function sourceOf(kind: string, args: string[], filters: ImportFilters, concurrency: number, config: BridgeConfig, values: Values): ImportSource {
  switch (kind) {
    case 'dicomweb': {
      if (args.length !== 1) throw new UsageError('import dicomweb: give one BASE-URL');
      let url: URL;
      try {
        url = new URL(args[0]!);
      } catch {
        throw new UsageError(`import dicomweb: ${args[0]} is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`import dicomweb: ${args[0]} is not an http:// or https:// URL`);
      if (url.username || url.password) throw new UsageError('import dicomweb: no user:password in the URL; use --basic-auth-file');
      if ((values['cert-file'] === undefined) !== (values['key-file'] === undefined)) throw new UsageError('--cert-file and --key-file go together');
      const authorization = authorizationOf(values);
      const tls = {
        ...(values['ca-file'] !== undefined ? { caFile: values['ca-file'] } : {}),
        ...(values['cert-file'] !== undefined ? { certFile: values['cert-file'] } : {}),
        ...(values['key-file'] !== undefined ? { keyFile: values['key-file'] } : {}),
      };
      return new DicomwebSource({
        baseUrl: args[0]!.replace(/\/+$/, ''),
        filters,
        headerCapBytes: config.dicom.headerCapBytes,
        ...(authorization !== undefined ? { authorization } : {}),
        ...(Object.keys(tls).length > 0 ? { tls } : {}),
      });
    }
    case 'dimse':
      return dimseSourceOf(args, filters, config, values);
    case 'files':
      if (args.length === 0) throw new UsageError('import files: give at least one PATH');
      return new FilesSource({ paths: args, filters, concurrency, headerCapBytes: config.dicom.headerCapBytes });
    default:
      throw new UsageError(`unknown import source '${kind}': dicomweb, dimse or files (see import --help)`);
  }
}

const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

function aeTitleOf(flag: string, title: string): string {
  if (title.trim().length === 0 || !AE_TITLE.test(title)) throw new UsageError(`${flag} ${title}: an AE title is 1 to 16 printable ASCII characters without backslash`);
  return title;
}

/** `import dimse AET@HOST:PORT` (HOST may be [IPv6]). */
function dimseSourceOf(args: string[], filters: ImportFilters, config: BridgeConfig, values: Values): ImportSource {
  if (args.length !== 1) throw new UsageError('import dimse: give one AET@HOST:PORT');
  const match = /^(.+)@(\[[^\]]+\]|[^:@]+):(\d+)$/.exec(args[0]!);
  if (!match) throw new UsageError(`import dimse: ${args[0]} is not AET@HOST:PORT`);
  const calledAeTitle = aeTitleOf('import dimse', match[1]!);
  const host = match[2]!.replace(/^\[|\]$/g, '');
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new UsageError(`import dimse: port ${match[3]} is not 1..65535`);
  const callingAeTitle = aeTitleOf('--calling-aet', values['calling-aet'] ?? config.dicom.aeTitles[0]!);
  const timeoutMs = positiveNumber('--timeout', values.timeout, true);
  const tlsOnly = (['ca-file', 'cert-file', 'key-file', 'servername'] as const).filter((k) => values[k] !== undefined);
  if (!values.tls && tlsOnly.length > 0) throw new UsageError(`import dimse: --${tlsOnly[0]} needs --tls`);
  if ((values['cert-file'] === undefined) !== (values['key-file'] === undefined)) throw new UsageError('--cert-file and --key-file go together');
  let tls: ClientTlsOptions | undefined;
  if (values.tls) {
    try {
      tls = {
        ...readClientTlsFiles({
          ...(values['ca-file'] !== undefined ? { caFile: values['ca-file'] } : {}),
          ...(values['cert-file'] !== undefined ? { certFile: values['cert-file'] } : {}),
          ...(values['key-file'] !== undefined ? { keyFile: values['key-file'] } : {}),
        }),
        ...(values.servername !== undefined ? { servername: values.servername } : {}),
      };
    } catch (err) {
      if (err instanceof TlsFileError) throw new UsageError(err.message);
      throw err;
    }
  }
  return new DimseSource({
    host,
    port,
    calledAeTitle,
    callingAeTitle,
    filters,
    headerCapBytes: config.dicom.headerCapBytes,
    maxPduLength: config.dicom.maxPduLength,
    ...(tls !== undefined ? { tls } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
}

/** Redis connects in the background: wait for it (10 s) rather than fail every study. */
async function healthy(pipeline: Pipeline): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pipeline.isHealthy()) {
    if (Date.now() > deadline) throw new Error('the store (Redis) is not reachable within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const importCommand: Command = {
  name: 'import',
  summary: 'backfill from an archive (DICOMweb, C-FIND, or files, folders and DICOMDIRs) into the queue',
  usage: USAGE,
  async run(args) {
    let values: Values;
    let positionals: string[];
    let filters: ImportFilters;
    let concurrency: number;
    let rate: number | undefined;
    try {
      ({ values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS }));
      filters = filtersOf(values);
      concurrency = positiveNumber('--concurrency', values.concurrency, true) ?? 2;
      rate = positiveNumber('--rate', values.rate, false);
      if (positionals.length === 0) throw new UsageError('give a source: import dicomweb BASE-URL, import dimse AET@HOST:PORT or import files PATH... (see import --help)');
    } catch (err) {
      process.stderr.write(`${errorMessage(err)}\n`);
      return EXIT.config;
    }
    const config = loadConfigOrReport(values.config);
    if (!config) return EXIT.config;
    let source: ImportSource;
    try {
      source = sourceOf(positionals[0]!, positionals.slice(1), filters, concurrency, config, values);
    } catch (err) {
      process.stderr.write(`${errorMessage(err)}\n`);
      return EXIT.config;
    }

    const dryRun = values['dry-run'] === true;
    let pipeline: Pipeline | undefined;
    if (!dryRun) {
      try {
        pipeline = await openPipeline(config, pino({ level: 'warn' }, pino.destination(2)));
        await healthy(pipeline);
      } catch (err) {
        await pipeline?.close();
        const hint = err instanceof DataDirError ? ' (stop the daemon and import again: it publishes the import when it starts; or use REDIS_URL)' : '';
        process.stderr.write(`cannot open the store: ${errorMessage(err)}${hint}\n`);
        return EXIT.failure;
      }
    }
    const abort = new AbortController();
    const interrupt = (): void => {
      process.stderr.write('\ninterrupted: finishing the studies under way\n');
      abort.abort();
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    try {
      const summary = await runImport(source, {
        concurrency,
        ...(rate !== undefined ? { rate } : {}),
        resume: values.resume === true,
        ...(pipeline ? { target: { addInstance: (r) => pipeline!.queue.addInstance(r), checkpoints: pipeline.checkpoints } } : {}),
        signal: abort.signal,
        progress: progressWriter(process.stderr),
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(formatSummary(summary, dryRun));
      return summary.failures.length === 0 && !summary.interrupted ? EXIT.ok : EXIT.failure;
    } catch (err) {
      process.stderr.write(`import failed: ${errorMessage(err)}\n`);
      return EXIT.failure;
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      await source.close?.();
      await pipeline?.close();
    }
  },
};
