import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthProvider, TokenError } from '../../src/fhir-client/auth/index.js';
import { refreshMarginMs } from '../../src/fhir-client/auth/oauth-token.js';
import { FhirClient, FhirHttpError } from '../../src/fhir-client/fhir-client.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { startTokenEndpoint, type TestTokenEndpoint } from '../support/token-endpoint.js';

let fhir: TestFhirServer;
let dir: string;

beforeAll(async () => {
  fhir = await startFhirServer();
  dir = await mkdtemp(join(tmpdir(), 'fhir-auth-'));
});
afterAll(async () => {
  await fhir?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fhir.reset());

const authHeaders = () => fhir.requests.map((r) => r.headers.authorization);

describe('bearer', () => {
  it('sends the static token on every FHIR request', async () => {
    fhir.faults.requireBearer = 's3cret-token';
    const client = new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000, auth: createAuthProvider({ type: 'bearer', bearerToken: 's3cret-token' }, { timeoutMs: 5000 }) });
    await client.metadata();
    await client.search('ImagingStudy', { identifier: 'urn:dicom:uid|urn:oid:1.2.3' });
    expect(authHeaders()).toEqual(['Bearer s3cret-token', 'Bearer s3cret-token']);
  });

  it('re-reads the token file when it changes', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'first\n');
    await utimes(file, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:00:00Z'));
    const client = new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000, auth: createAuthProvider({ type: 'bearer', tokenFile: file }, { timeoutMs: 5000 }) });
    await client.metadata();
    await writeFile(file, 'second\n');
    await utimes(file, new Date('2024-01-02T00:00:00Z'), new Date('2024-01-02T00:00:00Z'));
    await client.metadata();
    expect(authHeaders()).toEqual(['Bearer first', 'Bearer second']);
  });

  it('a token the server refuses gives a 401 FhirHttpError after one retry', async () => {
    fhir.faults.requireBearer = 'other';
    const client = new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000, auth: createAuthProvider({ type: 'bearer', bearerToken: 'wrong' }, { timeoutMs: 5000 }) });
    const err = await client.metadata().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirHttpError);
    expect((err as FhirHttpError).status).toBe(401);
    expect(fhir.requests).toHaveLength(2);
  });
});

describe('client-credentials', () => {
  let tokens: TestTokenEndpoint;
  beforeAll(async () => {
    tokens = await startTokenEndpoint({ clientId: 'bridge client', clientSecret: 'p@ss:word', expiresIn: 3600 });
  });
  afterAll(() => tokens?.close());
  beforeEach(() => {
    tokens.requests.length = 0;
    tokens.issued.length = 0;
  });

  it('posts grant_type=client_credentials with scope and HTTP Basic client authentication, caches the token, and sends it', async () => {
    fhir.faults.requireBearer = 'tok-1';
    const auth = createAuthProvider(
      { type: 'client-credentials', tokenUrl: tokens.url, clientId: 'bridge client', clientSecret: 'p@ss:word', scope: 'system/ImagingStudy.cu' },
      { timeoutMs: 5000 },
    );
    const client = new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000, auth });
    await Promise.all([client.metadata(), client.metadata()]);
    await client.metadata();
    expect(tokens.requests).toHaveLength(1);
    const [request] = tokens.requests;
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.form).toEqual({ grant_type: 'client_credentials', scope: 'system/ImagingStudy.cu' });
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('bridge+client:p%40ss%3Aword').toString('base64')}`);
    expect(authHeaders()).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
  });

  it('client_secret_post puts the credentials in the form', async () => {
    const auth = createAuthProvider(
      { type: 'client-credentials', tokenUrl: tokens.url, clientId: 'bridge client', clientSecret: 'p@ss:word', clientAuthMethod: 'post' },
      { timeoutMs: 5000 },
    );
    await new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000, auth }).metadata();
    expect(tokens.requests[0]!.form).toEqual({ grant_type: 'client_credentials', client_id: 'bridge client', client_secret: 'p@ss:word' });
    expect(tokens.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('a 401 from the FHIR server drops the cached token and retries once with a new one', async () => {
    fhir.faults.requireBearer = 'tok-2';
    const auth = createAuthProvider(
      { type: 'client-credentials', tokenUrl: tokens.url, clientId: 'bridge client', clientSecret: 'p@ss:word' },
      { timeoutMs: 5000 },
    );
    const response = await new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000, auth }).metadata();
    expect(response.status).toBe(200);
    expect(tokens.issued).toEqual(['tok-1', 'tok-2']);
    expect(fhir.requests.map((r) => [r.headers.authorization, r.status])).toEqual([
      ['Bearer tok-1', 401],
      ['Bearer tok-2', 200],
    ]);
  });

  it('a refused client is a TokenError naming the OAuth error, never the secret', async () => {
    const auth = createAuthProvider(
      { type: 'client-credentials', tokenUrl: tokens.url, clientId: 'bridge client', clientSecret: 'not-it' },
      { timeoutMs: 5000 },
    );
    const err = await new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000, auth }).metadata().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenError);
    expect((err as Error).message).toMatch(/401: invalid_client/);
    expect((err as Error).message).not.toMatch(/not-it/);
    expect(fhir.requests).toHaveLength(0);
  });

  it('refreshes shortly before expiry', () => {
    expect(refreshMarginMs(3600)).toBe(60_000);
    expect(refreshMarginMs(100)).toBe(10_000);
  });
});

describe('smart-backend', () => {
  for (const alg of ['RS384', 'ES384'] as const) {
    it(`signs a client_assertion (${alg}, kid) that the token endpoint verifies with the public key`, async () => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const pem = join(dir, `key-${alg}.pem`);
      await writeFile(pem, await exportPKCS8(privateKey));
      const tokens = await startTokenEndpoint({ clientId: 'bridge-smart', publicKey });
      try {
        fhir.faults.requireBearer = 'tok-1';
        const auth = createAuthProvider(
          { type: 'smart-backend', tokenUrl: tokens.url, clientId: 'bridge-smart', privateKeyFile: pem, alg, kid: 'key-1', scope: 'system/ImagingStudy.cu' },
          { timeoutMs: 5000 },
        );
        await new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000, auth }).metadata();
        expect(tokens.requests).toHaveLength(1);
        const [request] = tokens.requests;
        expect(request!.assertionError).toBeUndefined();
        expect(request!.status).toBe(200);
        expect(request!.form).toMatchObject({
          grant_type: 'client_credentials',
          scope: 'system/ImagingStudy.cu',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        });
        expect(request!.assertion!.header).toEqual({ alg, kid: 'key-1', typ: 'JWT' });
        const { payload } = request!.assertion!;
        expect(payload).toMatchObject({ iss: 'bridge-smart', sub: 'bridge-smart', aud: tokens.url });
        expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
        expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
        expect(authHeaders()).toEqual(['Bearer tok-1']);
      } finally {
        await tokens.close();
      }
    });
  }

  it('reads a JWK private key file, and a wrong key is refused by the token endpoint', async () => {
    const good = await generateKeyPair('ES384', { extractable: true });
    const other = await generateKeyPair('ES384', { extractable: true });
    const jwkFile = join(dir, 'other.jwk.json');
    await writeFile(jwkFile, JSON.stringify(await exportJWK(other.privateKey)));
    const tokens = await startTokenEndpoint({ clientId: 'bridge-smart', publicKey: good.publicKey });
    try {
      const auth = createAuthProvider(
        { type: 'smart-backend', tokenUrl: tokens.url, clientId: 'bridge-smart', privateKeyFile: jwkFile, alg: 'ES384', kid: 'k' },
        { timeoutMs: 5000 },
      );
      const err = await auth!.authorization().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenError);
      expect(tokens.requests[0]!.assertionError).toMatch(/signature/);
    } finally {
      await tokens.close();
    }
  });
});
