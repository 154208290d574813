import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

/**
 * Paths that may carry patient data. Nothing on the bridge's code paths logs
 * them on purpose; redaction is the second line of defence.
 */
export const REDACTED_PATHS = [
  'patientName',
  'patientId',
  'patientBirthDate',
  'accessionNumber',
  '*.patientName',
  '*.patientId',
  '*.patientBirthDate',
  '*.accessionNumber',
  '*.patient',
  'record.patient',
  'state.patient',
  '*.study.accessionNumber',
  // FHIR content: resources, identifiers, a server's OperationOutcome and the study's stored error.
  'resource',
  '*.resource',
  'lastResource',
  '*.lastResource',
  'lastError',
  '*.lastError',
  'outcome',
  '*.outcome',
  'diagnostics',
  '*.diagnostics',
  'identifier',
  '*.identifier',
  'subject',
  '*.subject',
  'birthDate',
  '*.birthDate',
  'headers.authorization',
  '*.headers.authorization',
  'authorization',
  '*.clientSecret',
  '*.token',
];

interface OutcomeLike {
  issue?: Array<{ severity?: unknown; code?: unknown }>;
}

/**
 * Errors as pino's standard serializer has them, except an error carrying a
 * FHIR server's OperationOutcome (FhirHttpError): its message quotes the
 * server's text, which may quote patient data, so only `METHOD path → status`
 * and the issue codes are kept.
 */
export function serializeError(err: unknown): unknown {
  const outcome = (err as { outcome?: OutcomeLike } | null)?.outcome;
  if (err instanceof Error && outcome !== undefined && outcome !== null && typeof outcome === 'object') {
    const head = /^(.*? → \d{3})/.exec(err.message)?.[1] ?? err.name;
    const issues = (Array.isArray(outcome.issue) ? outcome.issue : []).map((i) => `${String(i.severity ?? '')}/${String(i.code ?? '')}`);
    return { type: err.name, message: `${head} (server text not logged)`, status: (err as { status?: unknown }).status, issues };
  }
  return pino.stdSerializers.err(err as Error);
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/** pino-pretty's factory (a stream), or undefined when the package is not installed. */
export type PrettyLoader = () => ((options: Record<string, unknown>) => pino.DestinationStream) | undefined;

const loadPinoPretty: PrettyLoader = () => {
  try {
    const loaded = createRequire(import.meta.url)('pino-pretty') as { default?: unknown } | ((o: object) => pino.DestinationStream);
    const factory = typeof loaded === 'function' ? loaded : loaded.default;
    return typeof factory === 'function' ? (factory as (o: object) => pino.DestinationStream) : undefined;
  } catch {
    return undefined;
  }
};

export interface LoggerOptions {
  /** auto (default): human-readable when stdout is a terminal and pino-pretty is installed; JSON otherwise. */
  format?: LogFormat;
  /** Whether stdout is a terminal; default process.stdout.isTTY. */
  isTTY?: boolean;
  loadPretty?: PrettyLoader;
}

/** The bridge's logger: JSON lines on stdout (or `destination`), or pino-pretty on a terminal. */
export function createLogger(level: string, destination?: pino.DestinationStream, options: LoggerOptions = {}): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level,
    base: { name: 'dicom-fhir-bridge' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (destination) return pino(pinoOptions, destination);
  const format = options.format ?? 'auto';
  const isTTY = options.isTTY ?? process.stdout.isTTY === true;
  if (format === 'pretty' || (format === 'auto' && isTTY)) {
    const pretty = (options.loadPretty ?? loadPinoPretty)();
    if (pretty) return pino(pinoOptions, pretty({ colorize: isTTY, sync: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o', ignore: 'name' }));
    if (format === 'pretty') {
      const logger = pino(pinoOptions);
      logger.warn('log.format (LOG_FORMAT) is pretty, but the pino-pretty package is not installed: logging JSON');
      return logger;
    }
  }
  return pino(pinoOptions);
}
