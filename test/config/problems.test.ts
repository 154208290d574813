/**
 * Every configuration key with a bad value: the problem line names the key,
 * its environment variable (or "YAML only") and what the key allows. The
 * list of cases must cover every key of the schema.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { leafPaths } from '../../src/config/describe.js';
import { ENVIRONMENT_KEYS } from '../../src/config/environment.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';

interface Case {
  /** The schema key (as leafPaths spells it). */
  key: string;
  /** The key of the problem line, when it differs (list index, record key). */
  line?: string;
  env?: Record<string, string>;
  yaml?: Record<string, unknown>;
  allowed: RegExp;
}

const nested = (path: string, value: unknown): Record<string, unknown> =>
  path
    .split('.')
    .reverse()
    .reduce<unknown>((v, k) => (/^\d+$/.test(k) ? [v] : { [k]: v }), value) as Record<string, unknown>;

const INTEGER = (min: number, max?: number) => new RegExp(max === undefined ? `an integer, at least ${min}` : `an integer from ${min} to ${max}`);
const URL_ALLOWED = /an http:\/\/ or https:\/\/ URL without user:password/;

const CASES: Case[] = [
  { key: 'dicom.host', env: { DICOM_HOST: ' ' }, allowed: /IP address or host name/ },
  { key: 'dicom.port', env: { DICOM_PORT: 'abc' }, allowed: INTEGER(0, 65535) },
  { key: 'dicom.aeTitles.0', env: { DICOM_AET: 'THIS-AE-TITLE-IS-TOO-LONG' }, allowed: /1 to 16 characters, printable ASCII without backslash/ },
  { key: 'dicom.allowedCallers.0', env: { DICOM_ALLOWED_CALLERS: 'CT01,BACK\\SLASH' }, line: 'dicom.allowedCallers.1', allowed: /1 to 16 characters/ },
  { key: 'dicom.maxAssociations', env: { DICOM_MAX_ASSOCIATIONS: '0' }, allowed: INTEGER(1) },
  { key: 'dicom.maxPduLength', env: { DICOM_MAX_PDU_LENGTH: '100' }, allowed: INTEGER(4096, 16 * 1024 * 1024) },
  { key: 'dicom.headerCapBytes', env: { DICOM_HEADER_CAP_BYTES: '1.5' }, allowed: INTEGER(65536) },
  { key: 'dicom.artimTimeoutMs', env: { DICOM_ARTIM_TIMEOUT_MS: '-1' }, allowed: INTEGER(1) },
  { key: 'dicom.idleTimeoutMs', env: { DICOM_IDLE_TIMEOUT_MS: 'soon' }, allowed: INTEGER(1) },
  { key: 'dicom.associateRequestTimeoutMs', env: { DICOM_ASSOCIATE_REQUEST_TIMEOUT_MS: '0' }, allowed: INTEGER(1) },
  { key: 'dicom.maxPendingConnections', env: { DICOM_MAX_PENDING_CONNECTIONS: '-5' }, allowed: INTEGER(1) },
  { key: 'dicom.maxPendingConnectionsPerAddress', env: { DICOM_MAX_PENDING_CONNECTIONS_PER_ADDRESS: 'many' }, allowed: INTEGER(1) },
  { key: 'dicom.messageTimeoutMs', env: { DICOM_MESSAGE_TIMEOUT_MS: '2.5' }, allowed: INTEGER(1) },
  { key: 'dicom.minTransferRate', env: { DICOM_MIN_TRANSFER_RATE: '0' }, allowed: INTEGER(1) },
  { key: 'dicom.transferSyntaxPreference.0', env: { DICOM_TRANSFER_SYNTAX_PREFERENCE: 'notauid' }, allowed: /transfer syntax UID such as 1\.2\.840\.10008\.1\.2\.1/ },
  { key: 'dicom.plain', env: { DICOM_PLAIN: 'maybe' }, allowed: /true or false/ },
  { key: 'dicom.tls.port', env: { DICOM_TLS_PORT: '99999' }, allowed: INTEGER(0, 65535) },
  { key: 'dicom.tls.certFile', env: { DICOM_TLS_CERT_FILE: '/nonexistent/server.crt', DICOM_TLS_KEY_FILE: '/nonexistent/server.key' }, allowed: /^dicom\.tls\.certFile \(DICOM_TLS_CERT_FILE\): \/nonexistent\/server\.crt does not exist$/ },
  { key: 'dicom.tls.keyFile', env: { DICOM_TLS_CERT_FILE: '/nonexistent/server.crt', DICOM_TLS_KEY_FILE: '/nonexistent/server.key' }, allowed: /^dicom\.tls\.keyFile \(DICOM_TLS_KEY_FILE\): \/nonexistent\/server\.key does not exist$/ },
  { key: 'dicom.tls.caFile', env: { DICOM_TLS_CA_FILE: '/nonexistent/ca.crt' }, allowed: /does not exist$/ },
  { key: 'dicom.tls.requireClientCert', env: { DICOM_TLS_REQUIRE_CLIENT_CERT: 'yes' }, allowed: /true or false/ },
  { key: 'dicom.tls.minVersion', env: { DICOM_TLS_MIN_VERSION: 'TLSv1.1' }, allowed: /one of TLSv1\.2, TLSv1\.3/ },
  { key: 'fhir.baseUrl', env: { FHIR_BASE_URL: 'fhir.example.org' }, allowed: URL_ALLOWED },
  { key: 'fhir.version', env: { FHIR_VERSION: 'R6' }, allowed: /one of R4, R5, STU3/ },
  { key: 'fhir.requestTimeoutMs', env: { FHIR_REQUEST_TIMEOUT_MS: '0' }, allowed: INTEGER(1) },
  { key: 'fhir.maxResponseBytes', env: { FHIR_MAX_RESPONSE_BYTES: '0' }, allowed: INTEGER(1) },
  { key: 'fhir.patient.defaultSystem', env: { FHIR_PATIENT_ID_SYSTEM: 'not a uri' }, allowed: /absolute URI/ },
  { key: 'fhir.patient.issuerSystems.KEY', env: { FHIR_PATIENT_ISSUER_SYSTEMS: '{"HOSP_A":"HOSP A"}' }, line: 'fhir.patient.issuerSystems.HOSP_A', allowed: /absolute URI/ },
  { key: 'fhir.patient.strategy', env: { FHIR_PATIENT_STRATEGY: 'guess' }, allowed: /one of identifier, lookup, create/ },
  { key: 'fhir.basedOn', env: { FHIR_BASED_ON: 'order' }, allowed: /one of off, accession/ },
  { key: 'fhir.keyImages', env: { FHIR_KEY_IMAGES: 'basic' }, allowed: /one of off, extensions/ },
  { key: 'fhir.location', env: { FHIR_LOCATION: 'on' }, allowed: /one of display, off/ },
  { key: 'fhir.dicomWebBaseUrl', env: { DICOMWEB_BASE_URL: 'ftp://pacs.example/dicomweb' }, allowed: URL_ALLOWED },
  { key: 'fhir.retry.baseDelayMs', env: { FHIR_RETRY_BASE_DELAY_MS: 'x' }, allowed: INTEGER(1) },
  { key: 'fhir.retry.maxDelayMs', env: { FHIR_RETRY_MAX_DELAY_MS: '0' }, allowed: INTEGER(1) },
  { key: 'fhir.auth.type', env: { FHIR_AUTH_TYPE: 'basic' }, allowed: /one of none, bearer, client-credentials, smart-backend/ },
  { key: 'fhir.auth.bearerToken', env: { FHIR_BEARER_TOKEN: ' ' }, allowed: /the token, not empty/ },
  { key: 'fhir.auth.tokenFile', env: { FHIR_TOKEN_FILE: ' ' }, allowed: /a file holding the token/ },
  { key: 'fhir.auth.tokenUrl', env: { FHIR_TOKEN_URL: 'https://client:secret@auth.example/token' }, allowed: URL_ALLOWED },
  { key: 'fhir.auth.clientId', env: { FHIR_CLIENT_ID: ' ' }, allowed: /client id, not empty/ },
  { key: 'fhir.auth.clientSecret', env: { FHIR_CLIENT_SECRET: ' ' }, allowed: /client secret, not empty/ },
  { key: 'fhir.auth.clientSecretFile', env: { FHIR_CLIENT_SECRET_FILE: ' ' }, allowed: /a file holding the client secret/ },
  { key: 'fhir.auth.clientAuthMethod', env: { FHIR_CLIENT_AUTH_METHOD: 'jwt' }, allowed: /one of basic, post/ },
  { key: 'fhir.auth.scope', env: { FHIR_SCOPE: ' ' }, allowed: /space-separated scopes/ },
  { key: 'fhir.auth.privateKeyFile', env: { FHIR_PRIVATE_KEY_FILE: ' ' }, allowed: /PKCS#8 PEM or JWK private key file/ },
  { key: 'fhir.auth.alg', env: { FHIR_JWT_ALG: 'HS256' }, allowed: /one of RS384, ES384/ },
  { key: 'fhir.auth.kid', env: { FHIR_JWT_KID: ' ' }, allowed: /key id registered with the server/ },
  { key: 'fhir.headers.KEY', env: { FHIR_HEADERS: '{"X-Site":42}' }, line: 'fhir.headers.X-Site', allowed: /a header value \(text\)/ },
  { key: 'fhir.tls.caFile', env: { FHIR_TLS_CA_FILE: ' ' }, allowed: /a PEM CA bundle/ },
  { key: 'fhir.tls.certFile', env: { FHIR_TLS_CERT_FILE: ' ', FHIR_TLS_KEY_FILE: '/k.pem' }, allowed: /a PEM client certificate/ },
  { key: 'fhir.tls.keyFile', env: { FHIR_TLS_KEY_FILE: ' ', FHIR_TLS_CERT_FILE: '/c.pem' }, allowed: /a PEM private key/ },
  { key: 'fhir.tls.rejectUnauthorized', env: { FHIR_TLS_REJECT_UNAUTHORIZED: 'no' }, allowed: /true or false/ },
  { key: 'peers.0.aeTitle', yaml: { peers: [{ aeTitle: '' }] }, allowed: /1 to 16 characters/ },
  { key: 'peers.0.host', yaml: { peers: [{ aeTitle: 'CT01', host: '10.1.2.0/33' }] }, allowed: /IP address or CIDR block/ },
  { key: 'peers.0.defaultIssuer', yaml: { peers: [{ aeTitle: 'CT01', defaultIssuer: '' }] }, allowed: /Issuer of Patient ID/ },
  { key: 'peers.0.timezone', yaml: { peers: [{ aeTitle: 'CT01', timezone: 'Paris' }] }, allowed: /IANA timezone name/ },
  { key: 'peers.0.maxAssociations', yaml: { peers: [{ aeTitle: 'CT01', maxAssociations: 'many' }] }, allowed: INTEGER(1) },
  { key: 'timezone', env: { TIMEZONE: 'Mars/Olympus' }, allowed: /IANA timezone name such as Europe\/Paris/ },
  { key: 'pipeline.debounceMs', env: { PUBLISH_DEBOUNCE_MS: '-5' }, allowed: INTEGER(0) },
  { key: 'pipeline.maxDelayMs', env: { PUBLISH_MAX_DELAY_MS: 'later' }, allowed: INTEGER(0) },
  { key: 'pipeline.dataSync', env: { DATA_SYNC: 'off' }, allowed: /one of full, normal/ },
  { key: 'pipeline.storageCommitTimeoutMs', env: { STORAGE_COMMIT_TIMEOUT_MS: '50' }, allowed: INTEGER(100, 600000) },
  { key: 'redisUrl', env: { REDIS_URL: 'http://127.0.0.1:6379' }, allowed: /redis:\/\/ or rediss:\/\/ URL/ },
  { key: 'retention.publishedDays', env: { RETENTION_PUBLISHED_DAYS: '0' }, allowed: /a positive number of days/ },
  { key: 'retention.intervalMs', env: { RETENTION_INTERVAL_MS: '10' }, allowed: INTEGER(1000) },
  { key: 'retention.batchSize', env: { RETENTION_BATCH_SIZE: 'all' }, allowed: INTEGER(1, 10000) },
  { key: 'redis.prefix', env: { REDIS_PREFIX: 'a b' }, allowed: /letters, digits, _ \. -/ },
  { key: 'redis.lockDurationMs', env: { REDIS_LOCK_DURATION_MS: '10' }, allowed: INTEGER(1000) },
  { key: 'dataDir', env: { DATA_DIR: ' ' }, allowed: /a directory/ },
  { key: 'http.host', env: { HTTP_HOST: ' ' }, allowed: /IP address or host name/ },
  { key: 'http.port', env: { HTTP_PORT: '80.5' }, allowed: INTEGER(0, 65535) },
  { key: 'http.adminToken', env: { ADMIN_TOKEN: 'tiny-token' }, allowed: /at least 16 characters/ },
  { key: 'fhirEndpoint.enabled', env: { FHIR_ENDPOINT: 'yes' }, allowed: /one of auto, on, off/ },
  { key: 'fhirEndpoint.bearerToken', env: { FHIR_ENDPOINT_BEARER_TOKEN: 'tiny-token' }, allowed: /at least 16 characters/ },
  { key: 'fhirEndpoint.publicBaseUrl', env: { FHIR_ENDPOINT_PUBLIC_URL: 'bridge.example/fhir' }, allowed: URL_ALLOWED },
  { key: 'manifest.format', env: { FHIR_MANIFEST: 'kos' }, allowed: /one of off, mado/ },
  { key: 'manifest.excludeSopClasses.0', env: { MANIFEST_EXCLUDE_SOP_CLASSES: 'SR' }, allowed: /SOP Class UID such as 1\.2\.840/ },
  { key: 'manifest.excludeSeriesDescription', env: { MANIFEST_EXCLUDE_SERIES_DESCRIPTION: '(unclosed' }, allowed: /a regular expression/ },
  { key: 'manifest.viewerUrlTemplate', env: { VIEWER_URL_TEMPLATE: 'https://viewer.example/?uid={studyUID}' }, allowed: /placeholders are \{studyUid\}, \{accession\}, \{patientId\}/ },
  { key: 'manifest.organizationName', env: { MANIFEST_ORGANIZATION_NAME: ' ' }, allowed: /name of the organization/ },
  { key: 'manifest.organizationIdentifier', env: { MANIFEST_ORGANIZATION_IDENTIFIER: 'HOSP-A' }, allowed: /system\|value of an identifier/ },
  { key: 'manifest.accessionSystem', env: { MANIFEST_ACCESSION_SYSTEM: 'accessions' }, allowed: /absolute URI/ },
  { key: 'manifest.facilityType', env: { MANIFEST_FACILITY_TYPE: 'Hospital' }, allowed: /system\|code\|display of a coding/ },
  { key: 'manifest.practiceSetting', env: { MANIFEST_PRACTICE_SETTING: 'sct|394914008' }, allowed: /system\|code\|display of a coding/ },
  { key: 'log.level', env: { LOG_LEVEL: 'verbose' }, allowed: /one of fatal, error, warn, info, debug, trace, silent/ },
  { key: 'log.format', env: { LOG_FORMAT: 'color' }, allowed: /one of auto, json, pretty/ },
];

function problemsOf(options: Parameters<typeof loadConfig>[0]): string[] {
  try {
    loadConfig(options);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const dir = mkdtempSync(join(tmpdir(), 'bridge-problems-'));

describe('a bad value of every configuration key', () => {
  it('has a case for every key of the schema', () => {
    expect(CASES.map((c) => c.key).sort()).toEqual(leafPaths().map((p) => p.join('.')).sort());
  });

  it.each(CASES)('$key', (c) => {
    let options: Parameters<typeof loadConfig>[0] = { env: c.env ?? {} };
    if (c.yaml) {
      const file = join(dir, `${c.key}.yaml`);
      writeFileSync(file, stringify(c.yaml));
      options = { file, env: {} };
    }
    const problems = problemsOf(options);
    const key = c.line ?? c.key;
    const line = problems.find((p) => p.startsWith(`${key} (`));
    expect(line, problems.join('\n')).toBeDefined();
    const variable = ENVIRONMENT_KEYS.find((k) => key === k.path || key.startsWith(`${k.path}.`))?.env;
    expect(line).toContain(variable ? `(${variable}` : '(YAML only');
    expect(line).toMatch(c.allowed);
    // Secrets are never echoed.
    if (/token|secret/i.test(c.key)) for (const value of Object.values(c.env ?? {})) if (value.trim().length > 3) expect(line).not.toContain(value);
  });

  it('names the variable when the bad value comes from the YAML file', () => {
    const file = join(dir, 'port.yaml');
    writeFileSync(file, stringify(nested('dicom.port', 'abc')));
    expect(problemsOf({ file, env: {} })).toEqual(["dicom.port (DICOM_PORT): 'abc' is not allowed; allowed: an integer from 0 to 65535"]);
  });

  it('says what a JSON variable allows when it is not JSON', () => {
    const [line] = problemsOf({ env: { FHIR_HEADERS: '{bad' } });
    expect(line).toMatch(/^fhir\.headers \(FHIR_HEADERS\): not valid JSON \(.+\); allowed: a mapping of HTTP header names to values/);
  });

  it('names a bad header name and never shows header values', () => {
    const problems = problemsOf({ env: { FHIR_HEADERS: '{"bad name":"Basic c2VjcmV0","X-Key":7}' } });
    expect(problems).toContain("fhir.headers.bad name (FHIR_HEADERS): key 'bad name' is not allowed; allowed: an HTTP header name (RFC 9110 token)");
    expect(problems.join('\n')).not.toContain('c2VjcmV0');
  });
});

describe('credentials in URLs', () => {
  it('refuses user:password in FHIR_BASE_URL, showing the URL masked', () => {
    const problems = problemsOf({ env: { FHIR_BASE_URL: 'https://bridge:s3cret-pw@fhir.example.org/fhir' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^fhir\.baseUrl \(FHIR_BASE_URL\): https:\/\/\*\*\*@fhir\.example\.org\/fhir: user:password in the URL is not supported/);
    expect(problems[0]).toMatch(/FHIR_AUTH_TYPE/);
    expect(problems[0]).not.toContain('s3cret-pw');
    expect(problems[0]).not.toContain('bridge:');
  });
});

describe('the HTTP listener off loopback', () => {
  it('needs a token: the problem names HTTP_HOST and ADMIN_TOKEN', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'bridge.example.org']) {
      const problems = problemsOf({ env: { HTTP_HOST: host } });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^http\.host \(HTTP_HOST\): '.+' is not loopback, and no token is set/);
      expect(problems[0]).toContain('ADMIN_TOKEN');
    }
  });

  it('starts with ADMIN_TOKEN, or with the older FHIR_ENDPOINT_BEARER_TOKEN, or on loopback', () => {
    expect(loadConfig({ env: { HTTP_HOST: '0.0.0.0', ADMIN_TOKEN: 'a-long-admin-token-1' } }).http.adminToken).toBe('a-long-admin-token-1');
    expect(loadConfig({ env: { HTTP_HOST: '0.0.0.0', FHIR_ENDPOINT_BEARER_TOKEN: 'a-long-fhir-token-1' } }).http.host).toBe('0.0.0.0');
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost', '::ffff:127.0.0.1']) expect(loadConfig({ env: { HTTP_HOST: host } }).http.host).toBe(host);
  });
});
