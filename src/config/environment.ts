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
  { env: 'DICOM_ARTIM_TIMEOUT_MS', path: 'dicom.artimTimeoutMs', kind: 'number', default: '30000', description: 'ARTIM timer: wait for the close after a release, rejection or abort (the wait for the A-ASSOCIATE-RQ is DICOM_ASSOCIATE_REQUEST_TIMEOUT_MS).' },
  { env: 'DICOM_IDLE_TIMEOUT_MS', path: 'dicom.idleTimeoutMs', kind: 'number', default: '300000', description: 'An association silent this long is aborted.' },
  { env: 'DICOM_ASSOCIATE_REQUEST_TIMEOUT_MS', path: 'dicom.associateRequestTimeoutMs', kind: 'number', default: '5000', description: 'A new connection must send its whole A-ASSOCIATE-RQ (on the TLS port: finish the handshake) within this time, else it is closed.' },
  { env: 'DICOM_MAX_PENDING_CONNECTIONS', path: 'dicom.maxPendingConnections', kind: 'number', default: '64', description: 'Connections that have not yet sent a complete A-ASSOCIATE-RQ (not counted as associations); beyond, the oldest is closed.' },
  { env: 'DICOM_MAX_PENDING_CONNECTIONS_PER_ADDRESS', path: 'dicom.maxPendingConnectionsPerAddress', kind: 'number', default: '16', description: 'The same, from one IP address.' },
  { env: 'DICOM_MESSAGE_TIMEOUT_MS', path: 'dicom.messageTimeoutMs', kind: 'number', default: '30000', description: 'Floor of the per-message deadline: a DIMSE message must arrive within this plus its size at DICOM_MIN_TRANSFER_RATE, else A-ABORT.' },
  { env: 'DICOM_MIN_TRANSFER_RATE', path: 'dicom.minTransferRate', kind: 'number', default: '16384', description: 'Minimum transfer rate of a DIMSE message, in bytes per second (see DICOM_MESSAGE_TIMEOUT_MS).' },
  { env: 'DICOM_TRANSFER_SYNTAX_PREFERENCE', path: 'dicom.transferSyntaxPreference', kind: 'list', default: '(explicit LE, implicit LE, then offered order)', description: 'Transfer syntax UIDs in order of preference (comma list).' },
  { env: 'DICOM_PLAIN', path: 'dicom.plain', kind: 'string', default: 'true', description: 'false: no plain TCP listener, DICOM over TLS only (needs the TLS certificate and key).' },
  { env: 'DICOM_TLS_PORT', path: 'dicom.tls.port', kind: 'number', default: '2762', description: 'Port of the DICOM TLS listener (PS3.15 BCP 195 profile), enabled by DICOM_TLS_CERT_FILE and DICOM_TLS_KEY_FILE.' },
  { env: 'DICOM_TLS_CERT_FILE', path: 'dicom.tls.certFile', kind: 'string', default: '(unset: no TLS listener)', description: 'PEM server certificate (chain) of the DICOM TLS listener.' },
  { env: 'DICOM_TLS_KEY_FILE', path: 'dicom.tls.keyFile', kind: 'string', default: '(unset: no TLS listener)', description: 'PEM private key of the server certificate (never logged).' },
  { env: 'DICOM_TLS_CA_FILE', path: 'dicom.tls.caFile', kind: 'string', default: '(unset)', description: 'PEM CA bundle that client certificates must chain to.' },
  { env: 'DICOM_TLS_REQUIRE_CLIENT_CERT', path: 'dicom.tls.requireClientCert', kind: 'string', default: 'false', description: 'true: refuse TLS clients without a certificate signed by DICOM_TLS_CA_FILE.' },
  { env: 'DICOM_TLS_MIN_VERSION', path: 'dicom.tls.minVersion', kind: 'string', default: 'TLSv1.2', description: 'Lowest TLS version accepted: TLSv1.2 (BCP 195) or TLSv1.3.' },
  { env: 'FHIR_BASE_URL', path: 'fhir.baseUrl', kind: 'string', default: '(unset: publish nowhere, keep resources in the store)', description: 'Base URL of the FHIR server that receives ImagingStudy resources.' },
  { env: 'FHIR_VERSION', path: 'fhir.version', kind: 'string', default: 'R4', description: 'FHIR version written: R4, R5 or STU3.' },
  { env: 'FHIR_REQUEST_TIMEOUT_MS', path: 'fhir.requestTimeoutMs', kind: 'number', default: '30000', description: 'Timeout of one FHIR HTTP request.' },
  { env: 'FHIR_MAX_RESPONSE_BYTES', path: 'fhir.maxResponseBytes', kind: 'number', default: '8388608', description: 'Largest FHIR response body read (8 MiB); a larger answer is a retried error, not buffered.' },
  { env: 'FHIR_PATIENT_ID_SYSTEM', path: 'fhir.patient.defaultSystem', kind: 'string', default: 'https://dicom-fhir-bridge.example/fhir/sid/patient-id', description: 'Identifier system for Patient ID when no issuer maps to one (a URI). The default is a placeholder under the reserved .example domain (RFC 6761), so it can never collide with a real system: set your site\'s own (its MRN system URL, or urn:oid: of its assigning authority).' },
  { env: 'FHIR_PATIENT_ISSUER_SYSTEMS', path: 'fhir.patient.issuerSystems', kind: 'json', default: '{}', description: 'JSON object: Issuer of Patient ID to identifier system URI.' },
  { env: 'FHIR_BASED_ON', path: 'fhir.basedOn', kind: 'string', default: '(unset: accession in R5, off in R4 and STU3)', description: 'ImagingStudy.basedOn: off, or accession (logical ServiceRequest reference by the accession identifier). In R5 the accession is then in basedOn only, not in identifier (R5 mapping).' },
  { env: 'FHIR_KEY_IMAGES', path: 'fhir.keyImages', kind: 'string', default: 'off', description: 'R4 only: key images of Key Object Selection Documents as Basic resources with the R5 ImagingSelection cross-version extensions (extensions), or none (off). R5 writes ImagingSelection, STU3 ImagingManifest.' },
  { env: 'DICOMWEB_BASE_URL', path: 'fhir.dicomWebBaseUrl', kind: 'string', default: '(unset: no Endpoint)', description: 'WADO-RS base URL referenced by ImagingStudy.endpoint.' },
  { env: 'FHIR_PATIENT_STRATEGY', path: 'fhir.patient.strategy', kind: 'string', default: 'identifier', description: 'ImagingStudy.subject: identifier (logical reference), lookup (search Patient by identifier), create (conditional create in a transaction).' },
  { env: 'FHIR_RETRY_BASE_DELAY_MS', path: 'fhir.retry.baseDelayMs', kind: 'number', default: '1000', description: 'First retry delay of a publish (network error, 408, 429, 5xx); doubles per attempt, with jitter.' },
  { env: 'FHIR_RETRY_MAX_DELAY_MS', path: 'fhir.retry.maxDelayMs', kind: 'number', default: '300000', description: 'Longest delay between publish retries (a Retry-After may ask for more).' },
  { env: 'FHIR_AUTH_TYPE', path: 'fhir.auth.type', kind: 'string', default: 'none', description: 'none, bearer, client-credentials or smart-backend.' },
  { env: 'FHIR_BEARER_TOKEN', path: 'fhir.auth.bearerToken', kind: 'string', default: '(unset)', description: 'bearer: the static token (secret).' },
  { env: 'FHIR_TOKEN_FILE', path: 'fhir.auth.tokenFile', kind: 'string', default: '(unset)', description: 'bearer: file holding the token, re-read when it changes.' },
  { env: 'FHIR_TOKEN_URL', path: 'fhir.auth.tokenUrl', kind: 'string', default: '(unset)', description: 'client-credentials, smart-backend: OAuth 2.0 token endpoint.' },
  { env: 'FHIR_CLIENT_ID', path: 'fhir.auth.clientId', kind: 'string', default: '(unset)', description: 'client-credentials, smart-backend: client id.' },
  { env: 'FHIR_CLIENT_SECRET', path: 'fhir.auth.clientSecret', kind: 'string', default: '(unset)', description: 'client-credentials: client secret (secret).' },
  { env: 'FHIR_CLIENT_SECRET_FILE', path: 'fhir.auth.clientSecretFile', kind: 'string', default: '(unset)', description: 'client-credentials: file holding the client secret.' },
  { env: 'FHIR_CLIENT_AUTH_METHOD', path: 'fhir.auth.clientAuthMethod', kind: 'string', default: 'basic', description: 'client-credentials: basic (client_secret_basic) or post (client_secret_post).' },
  { env: 'FHIR_SCOPE', path: 'fhir.auth.scope', kind: 'string', default: '(unset)', description: 'Scope requested with the token, e.g. system/ImagingStudy.cu system/Patient.rs.' },
  { env: 'FHIR_PRIVATE_KEY_FILE', path: 'fhir.auth.privateKeyFile', kind: 'string', default: '(unset)', description: 'smart-backend: private key, PKCS#8 PEM or JWK.' },
  { env: 'FHIR_JWT_ALG', path: 'fhir.auth.alg', kind: 'string', default: 'RS384', description: 'smart-backend: RS384 or ES384.' },
  { env: 'FHIR_JWT_KID', path: 'fhir.auth.kid', kind: 'string', default: '(unset)', description: 'smart-backend: key id (kid) of the key registered with the server.' },
  { env: 'FHIR_HEADERS', path: 'fhir.headers', kind: 'json', default: '{}', description: 'JSON object of extra headers on every FHIR request.' },
  { env: 'FHIR_TLS_CA_FILE', path: 'fhir.tls.caFile', kind: 'string', default: "(unset: the system's CAs)", description: 'PEM CA bundle trusted for the FHIR server and token endpoint.' },
  { env: 'FHIR_TLS_CERT_FILE', path: 'fhir.tls.certFile', kind: 'string', default: '(unset)', description: 'PEM client certificate (mutual TLS).' },
  { env: 'FHIR_TLS_KEY_FILE', path: 'fhir.tls.keyFile', kind: 'string', default: '(unset)', description: 'PEM private key of the client certificate.' },
  { env: 'FHIR_TLS_REJECT_UNAUTHORIZED', path: 'fhir.tls.rejectUnauthorized', kind: 'string', default: 'true', description: "false accepts any server certificate (tests only)." },
  { env: 'TIMEZONE', path: 'timezone', kind: 'string', default: "(the machine's zone)", description: 'IANA timezone of DICOM local times without Timezone Offset From UTC.' },
  { env: 'PUBLISH_DEBOUNCE_MS', path: 'pipeline.debounceMs', kind: 'number', default: '2000', description: 'Quiet period after the latest instance of a study before it is published.' },
  { env: 'PUBLISH_MAX_DELAY_MS', path: 'pipeline.maxDelayMs', kind: 'number', default: '30000', description: 'Longest time between publishes while a study keeps arriving.' },
  { env: 'DATA_SYNC', path: 'pipeline.dataSync', kind: 'string', default: 'full', description: 'Embedded mode: full fsyncs each commit that acknowledges C-STOREs (survives power loss); normal survives kill -9 only, faster.' },
  { env: 'REDIS_URL', path: 'redisUrl', kind: 'string', default: '(unset: embedded SQLite)', description: 'Redis for the distributed mode.' },
  { env: 'REDIS_PREFIX', path: 'redis.prefix', kind: 'string', default: 'dfb', description: 'Prefix of every Redis key (bridges sharing a Redis use different prefixes).' },
  { env: 'REDIS_LOCK_DURATION_MS', path: 'redis.lockDurationMs', kind: 'number', default: '30000', description: "Time after which a crashed worker's job is handed out again." },
  { env: 'DATA_DIR', path: 'dataDir', kind: 'string', default: './data', description: 'Directory of the embedded store (SQLite, WAL).' },
  { env: 'HTTP_HOST', path: 'http.host', kind: 'string', default: '127.0.0.1', description: 'Address of the HTTP endpoints (health, readiness, studies).' },
  { env: 'HTTP_PORT', path: 'http.port', kind: 'number', default: '8080', description: 'Port of the HTTP endpoints.' },
  { env: 'ADMIN_TOKEN', path: 'http.adminToken', kind: 'string', default: '(unset: open on loopback; required off loopback)', description: 'Token of the HTTP API (secret, at least 16 characters): when set, /studies, /status, republish and /fhir need `Authorization: Bearer <token>`. A non-loopback HTTP_HOST without it refuses to start.' },
  { env: 'FHIR_ENDPOINT', path: 'fhirEndpoint.enabled', kind: 'string', default: 'auto', description: 'Built-in read-only FHIR endpoint at /fhir: auto (on when FHIR_BASE_URL is unset), on, off.' },
  { env: 'FHIR_ENDPOINT_BEARER_TOKEN', path: 'fhirEndpoint.bearerToken', kind: 'string', default: '(unset)', description: 'A read-only token accepted on /fhir only (e.g. for an EHR), beside ADMIN_TOKEN; without ADMIN_TOKEN it also stands in for it.' },
  { env: 'FHIR_ENDPOINT_PUBLIC_URL', path: 'fhirEndpoint.publicBaseUrl', kind: 'string', default: '(from the Host header)', description: 'Public base URL of the built-in FHIR endpoint, for Bundle links.' },
  { env: 'LOG_LEVEL', path: 'log.level', kind: 'string', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
  { env: 'LOG_FORMAT', path: 'log.format', kind: 'string', default: 'auto', description: 'auto (human-readable when stdout is a terminal and pino-pretty is installed, else JSON), json or pretty.' },
];
