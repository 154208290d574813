/**
 * Environment variables that override configuration keys. The table is the
 * single source for loading and for the README's configuration reference.
 */
export interface EnvironmentKey {
  env: string;
  /** Dotted path in the YAML configuration. */
  path: string;
  /** How the variable's text becomes a value. */
  kind: 'string' | 'list' | 'number' | 'json';
  default: string;
  description: string;
}

export const ENVIRONMENT_KEYS: readonly EnvironmentKey[] = [
  { env: 'DICOM_PORT', path: 'dicom.port', kind: 'number', default: '11112', description: 'TCP port of the DICOM listener (C-ECHO, C-STORE).' },
  { env: 'DICOM_AET', path: 'dicom.aeTitles', kind: 'list', default: 'FHIRBRIDGE', description: 'Called AE title(s) the bridge answers to (comma list).' },
  { env: 'DICOM_HOST', path: 'dicom.host', kind: 'string', default: '0.0.0.0', description: 'Address the DICOM listener binds to.' },
  { env: 'DICOM_ALLOWED_CALLERS', path: 'dicom.allowedCallers', kind: 'list', default: '(empty: any, with a warning)', description: 'Calling AE titles allowed to associate (comma list).' },
  { env: 'DICOM_MAX_ASSOCIATIONS', path: 'dicom.maxAssociations', kind: 'number', default: '32', description: 'Concurrent associations; more are rejected as temporary congestion.' },
  { env: 'DICOM_MAX_PDU_LENGTH', path: 'dicom.maxPduLength', kind: 'number', default: '262144', description: 'Maximum PDU length announced and enforced on inbound PDUs.' },
  { env: 'DICOM_HEADER_CAP_BYTES', path: 'dicom.headerCapBytes', kind: 'number', default: '16777216', description: 'Most bytes kept of a dataset before Pixel Data; larger headers answer A700H.' },
  { env: 'DICOM_ARTIM_TIMEOUT_MS', path: 'dicom.artimTimeoutMs', kind: 'number', default: '30000', description: 'ARTIM timer: wait for A-ASSOCIATE-RQ after connect, and for the close after release or abort.' },
  { env: 'DICOM_IDLE_TIMEOUT_MS', path: 'dicom.idleTimeoutMs', kind: 'number', default: '300000', description: 'An association silent this long is aborted.' },
  { env: 'DICOM_TRANSFER_SYNTAX_PREFERENCE', path: 'dicom.transferSyntaxPreference', kind: 'list', default: '(explicit LE, implicit LE, then offered order)', description: 'Transfer syntax UIDs in order of preference (comma list).' },
  { env: 'FHIR_BASE_URL', path: 'fhir.baseUrl', kind: 'string', default: '(unset: publish nowhere, keep resources in the store)', description: 'Base URL of the FHIR server that receives ImagingStudy resources.' },
  { env: 'FHIR_VERSION', path: 'fhir.version', kind: 'string', default: 'R4', description: 'FHIR version written: R4, R5 or STU3.' },
  { env: 'FHIR_REQUEST_TIMEOUT_MS', path: 'fhir.requestTimeoutMs', kind: 'number', default: '30000', description: 'Timeout of one FHIR HTTP request.' },
  { env: 'FHIR_PATIENT_ID_SYSTEM', path: 'fhir.patient.defaultSystem', kind: 'string', default: 'urn:dicom-fhir-bridge:patient-id', description: 'Identifier system for Patient ID when no issuer maps to one (a URI).' },
  { env: 'FHIR_PATIENT_ISSUER_SYSTEMS', path: 'fhir.patient.issuerSystems', kind: 'json', default: '{}', description: 'JSON object: Issuer of Patient ID to identifier system URI.' },
  { env: 'FHIR_BASED_ON', path: 'fhir.basedOn', kind: 'string', default: 'off', description: 'ImagingStudy.basedOn: off, or accession (logical ServiceRequest reference).' },
  { env: 'DICOMWEB_BASE_URL', path: 'fhir.dicomWebBaseUrl', kind: 'string', default: '(unset: no Endpoint)', description: 'WADO-RS base URL referenced by ImagingStudy.endpoint.' },
  { env: 'TIMEZONE', path: 'timezone', kind: 'string', default: "(the machine's zone)", description: 'IANA timezone of DICOM local times without Timezone Offset From UTC.' },
  { env: 'PUBLISH_DEBOUNCE_MS', path: 'pipeline.debounceMs', kind: 'number', default: '2000', description: 'Quiet period after the latest instance of a study before it is published.' },
  { env: 'PUBLISH_MAX_DELAY_MS', path: 'pipeline.maxDelayMs', kind: 'number', default: '30000', description: 'Longest time between publishes while a study keeps arriving.' },
  { env: 'REDIS_URL', path: 'redisUrl', kind: 'string', default: '(unset: embedded SQLite)', description: 'Redis for the distributed mode.' },
  { env: 'REDIS_PREFIX', path: 'redis.prefix', kind: 'string', default: 'dfb', description: 'Prefix of every Redis key (bridges sharing a Redis use different prefixes).' },
  { env: 'REDIS_LOCK_DURATION_MS', path: 'redis.lockDurationMs', kind: 'number', default: '30000', description: "Time after which a crashed worker's job is handed out again." },
  { env: 'DATA_DIR', path: 'dataDir', kind: 'string', default: './data', description: 'Directory of the embedded store (SQLite, WAL).' },
  { env: 'HTTP_HOST', path: 'http.host', kind: 'string', default: '127.0.0.1', description: 'Address of the HTTP endpoints (health, readiness, studies).' },
  { env: 'HTTP_PORT', path: 'http.port', kind: 'number', default: '8080', description: 'Port of the HTTP endpoints.' },
  { env: 'LOG_LEVEL', path: 'log.level', kind: 'string', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
];
