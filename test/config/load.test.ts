import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { maskSecrets } from '../../src/config/mask.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the documented defaults with an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.dicom).toMatchObject({ host: '0.0.0.0', port: 11112, aeTitles: ['FHIRBRIDGE'], allowedCallers: [] });
    expect(config.fhir.baseUrl).toBeUndefined();
    expect(config.fhir.version).toBe('R4');
    expect(config.redisUrl).toBeUndefined();
    expect(config.dataDir).toBe('./data');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.pipeline).toEqual({ debounceMs: 2000, maxDelayMs: 30000, dataSync: 'full', storageCommitTimeoutMs: 10000 });
    expect(config.log.level).toBe('info');
    // issue 19 item 10: an http(s) URI, not the unregistered URN namespace urn:dicom-fhir-bridge.
    expect(config.fhir.patient.defaultSystem).toBe('https://dicom-fhir-bridge.example/fhir/sid/patient-id');
  });

  it('takes every run-contract variable from the environment', () => {
    const config = loadConfig({
      env: {
        DICOM_PORT: '11113',
        DICOM_AET: 'BRIDGE1, BRIDGE2',
        DICOM_HOST: '127.0.0.1',
        DICOM_ALLOWED_CALLERS: 'CT01,MR02',
        FHIR_BASE_URL: 'http://127.0.0.1:9999/fhir/',
        FHIR_VERSION: 'R5',
        REDIS_URL: 'redis://127.0.0.1:6379',
        DATA_DIR: '/var/lib/bridge',
        HTTP_HOST: '0.0.0.0',
        HTTP_PORT: '8081',
        FHIR_ENDPOINT_BEARER_TOKEN: 'a-token-of-32-characters-at-last', // a token is required off loopback
        PUBLISH_DEBOUNCE_MS: '500',
        PUBLISH_MAX_DELAY_MS: '5000',
        STORAGE_COMMIT_TIMEOUT_MS: '4000',
        LOG_LEVEL: 'debug',
        FHIR_PATIENT_ISSUER_SYSTEMS: '{"HOSP":"urn:oid:1.2.3"}',
      },
    });
    expect(config.dicom.port).toBe(11113);
    expect(config.dicom.aeTitles).toEqual(['BRIDGE1', 'BRIDGE2']);
    expect(config.dicom.host).toBe('127.0.0.1');
    expect(config.dicom.allowedCallers).toEqual(['CT01', 'MR02']);
    expect(config.fhir.baseUrl).toBe('http://127.0.0.1:9999/fhir');
    expect(config.fhir.version).toBe('R5');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.dataDir).toBe('/var/lib/bridge');
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(config.pipeline).toEqual({ debounceMs: 500, maxDelayMs: 5000, dataSync: 'full', storageCommitTimeoutMs: 4000 });
    expect(config.log.level).toBe('debug');
    expect(config.fhir.patient.issuerSystems).toEqual({ HOSP: 'urn:oid:1.2.3' });
  });

  it('lets the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-config-'));
    const file = join(dir, 'bridge.yaml');
    writeFileSync(file, 'dicom:\n  port: 4242\n  aeTitles: [FROMFILE]\nhttp:\n  port: 9090\n');
    const config = loadConfig({ file, env: { HTTP_PORT: '9191' } });
    expect(config.dicom.port).toBe(4242);
    expect(config.dicom.aeTitles).toEqual(['FROMFILE']);
    expect(config.http.port).toBe(9191);
  });

  it('reads the documented example file', () => {
    const config = loadConfig({ file: 'config/bridge.example.yaml', env: {} });
    expect(config.dicom.allowedCallers).toEqual(['CT01', 'PACS']);
    expect(config.timezone).toBe('Europe/Paris');
  });

  it('names the key, its variable and what is allowed, one line per problem', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          DICOM_PORT: '70000',
          FHIR_VERSION: 'R6',
          FHIR_BASE_URL: 'ftp://x',
          DICOM_AET: 'THIS-AE-TITLE-IS-TOO-LONG',
          TIMEZONE: 'Mars/Olympus',
        },
      }),
    );
    expect(problems).toHaveLength(5);
    expect(problems.find((p) => p.startsWith('dicom.port (DICOM_PORT)'))).toMatch(/65535/);
    expect(problems.find((p) => p.startsWith('fhir.version (FHIR_VERSION)'))).toMatch(/R4, R5, STU3/);
    expect(problems.find((p) => p.startsWith('fhir.baseUrl (FHIR_BASE_URL)'))).toMatch(/http/);
    expect(problems.find((p) => p.startsWith('dicom.aeTitles.0'))).toMatch(/16 characters/);
    expect(problems.find((p) => p.startsWith('timezone (TIMEZONE)'))).toMatch(/IANA/);
  });

  it('rejects unknown keys and a max delay below the debounce', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-config-'));
    const file = join(dir, 'bridge.yaml');
    writeFileSync(file, 'dicom:\n  prot: 1\npipeline:\n  debounceMs: 5000\n  maxDelayMs: 1000\n');
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toContain('dicom: unknown key(s) prot');
    expect(problems.some((p) => p.startsWith('pipeline.maxDelayMs (PUBLISH_MAX_DELAY_MS): must be at least'))).toBe(true);
  });

  it('takes retention from the environment (off by default), and refuses it in the distributed mode', () => {
    expect(loadConfig({ env: {} }).retention).toEqual({ publishedDays: undefined, intervalMs: 3_600_000, batchSize: 100 });
    expect(loadConfig({ env: { RETENTION_PUBLISHED_DAYS: '0.5', RETENTION_INTERVAL_MS: '60000', RETENTION_BATCH_SIZE: '20' } }).retention).toEqual({
      publishedDays: 0.5,
      intervalMs: 60_000,
      batchSize: 20,
    });
    const problems = problemsOf(() => loadConfig({ env: { RETENTION_PUBLISHED_DAYS: '30', REDIS_URL: 'redis://127.0.0.1:6379' } }));
    expect(problems).toEqual([expect.stringMatching(/^retention\.publishedDays \(RETENTION_PUBLISHED_DAYS\).*embedded store only.*REDIS_URL/)]);
  });

  it('says when the file is missing or not YAML', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/bridge.yaml', env: {} }))[0]).toMatch(/cannot be read \(ENOENT\)/);
    const dir = mkdtempSync(join(tmpdir(), 'bridge-config-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'dicom: [unclosed\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))[0]).toMatch(/not valid YAML/);
  });
});

describe('maskSecrets', () => {
  it('masks secret keys and URL credentials', () => {
    expect(
      maskSecrets({ fhir: { clientSecret: 's3cret', baseUrl: 'https://user:pw@fhir.example.org/r4' }, redisUrl: 'redis://:pw@h:6379' }),
    ).toEqual({ fhir: { clientSecret: '***', baseUrl: 'https://***@fhir.example.org/r4' }, redisUrl: 'redis://***@h:6379' });
    expect(maskSecrets({ fhir: { headers: { Authorization: 'Basic dXNlcjpwdw==', 'X-Site': 'A' } } })).toEqual({
      fhir: { headers: { Authorization: '***', 'X-Site': '***' } },
    });
  });
});
