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
  'headers.authorization',
  '*.headers.authorization',
  'authorization',
  '*.clientSecret',
  '*.token',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { name: 'dicom-fhir-bridge' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
