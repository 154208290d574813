import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FhirClient,
  FhirHttpError,
  FhirNetworkError,
  idFromLocation,
  isRetryable,
  parseRetryAfter,
} from '../../src/fhir-client/fhir-client.js';
import { freePort } from '../support/free-port.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
  res.end(JSON.stringify(body));
};

describe('FhirClient', () => {
  it('conditionalUpdate PUTs FHIR JSON to [base]/Type?query with If-Match and extra headers', async () => {
    answer = (_req, res) => json(res, 201, { resourceType: 'ImagingStudy', id: 'x1' }, { location: `${base}ImagingStudy/x1/_history/1`, etag: 'W/"1"' });
    const client = new FhirClient({ baseUrl: base, timeoutMs: 5_000, headers: { Authorization: 'Bearer t' } });
    const response = await client.conditionalUpdate('ImagingStudy', 'identifier=urn%3Adicom%3Auid%7Curn%3Aoid%3A1.2', { resourceType: 'ImagingStudy', status: 'available' }, { ifMatch: 'W/"1"' });
    expect(response).toMatchObject({ status: 201, resource: { id: 'x1' }, etag: 'W/"1"' });
    expect(idFromLocation(response.location, 'ImagingStudy')).toBe('x1');
    const request = seen.at(-1)!;
    expect(request.method).toBe('PUT');
    expect(request.url).toBe('/fhir/ImagingStudy?identifier=urn%3Adicom%3Auid%7Curn%3Aoid%3A1.2');
    expect(request.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(request.headers.accept).toBe('application/fhir+json');
    expect(request.headers['if-match']).toBe('W/"1"');
    expect(request.headers.authorization).toBe('Bearer t');
    expect(JSON.parse(request.body)).toEqual({ resourceType: 'ImagingStudy', status: 'available' });
  });

  it('read, search, transaction and metadata address the right URLs', async () => {
    answer = (_req, res) => json(res, 200, { resourceType: 'Bundle' });
    const client = new FhirClient({ baseUrl: base, timeoutMs: 5_000 });
    await client.read('Patient', 'p 1');
    await client.search('ImagingStudy', { identifier: 'a|b', _count: '1' });
    await client.transaction({ resourceType: 'Bundle', type: 'transaction' });
    await client.metadata();
    expect(seen.slice(-4).map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /fhir/Patient/p%201',
      'GET /fhir/ImagingStudy?identifier=a%7Cb&_count=1',
      'POST /fhir',
      'GET /fhir/metadata',
    ]);
  });

  it('a 4xx is a FhirHttpError with the OperationOutcome text, not retryable', async () => {
    answer = (_req, res) =>
      json(res, 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'Invalid code', expression: ['ImagingStudy.status'] }] });
    const client = new FhirClient({ baseUrl: base, timeoutMs: 5_000 });
    const err = await client.conditionalUpdate('ImagingStudy', 'x=1', { resourceType: 'ImagingStudy' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirHttpError);
    expect(err).toMatchObject({ status: 400, outcome: { resourceType: 'OperationOutcome' } });
    expect((err as Error).message).toContain('Invalid code (ImagingStudy.status)');
    expect(isRetryable(err)).toBe(false);
  });

  it('429 and 5xx are retryable and carry Retry-After', async () => {
    answer = (_req, res) => json(res, 429, { resourceType: 'OperationOutcome', issue: [] }, { 'retry-after': '7' });
    const client = new FhirClient({ baseUrl: base, timeoutMs: 5_000 });
    const err = await client.read('Patient', '1').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 7_000 });
    expect(isRetryable(err)).toBe(true);
    answer = (_req, res) => {
      res.writeHead(503);
      res.end('busy');
    };
    const err503 = await client.read('Patient', '1').catch((e: unknown) => e);
    expect(err503).toMatchObject({ status: 503 });
    expect(isRetryable(err503)).toBe(true);
    expect(isRetryable(new FhirHttpError('x', 408))).toBe(true);
    expect(isRetryable(new FhirHttpError('x', 412))).toBe(false);
    expect(isRetryable(new Error('other'))).toBe(false);
  });

  it('a request without an answer within timeoutMs is a retryable FhirNetworkError', async () => {
    answer = () => undefined; // never answers
    const client = new FhirClient({ baseUrl: base, timeoutMs: 100 });
    const err = await client.read('Patient', '1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirNetworkError);
    expect(err).toMatchObject({ timedOut: true });
    expect(isRetryable(err)).toBe(true);
  });

  it('a refused connection is a retryable FhirNetworkError', async () => {
    const client = new FhirClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, timeoutMs: 5_000 });
    const err = await client.metadata().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirNetworkError);
    expect(err).toMatchObject({ timedOut: false });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(isRetryable(err)).toBe(true);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.UTC(2015, 9, 21, 7, 28, 0))).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('FhirClient update and create', () => {
  it('update PUTs [base]/Type/id with the id in the body and If-Match; create POSTs with If-None-Exist', async () => {
    answer = (_req, res) => json(res, 200, { resourceType: 'ImagingStudy', id: '1.2.3' }, { etag: 'W/"2"' });
    const client = new FhirClient({ baseUrl: base, timeoutMs: 5_000 });
    const updated = await client.update('ImagingStudy', '1.2.3', { resourceType: 'ImagingStudy', status: 'available' }, { ifMatch: 'W/"1"' });
    expect(updated.etag).toBe('W/"2"');
    let request = seen.at(-1)!;
    expect(`${request.method} ${request.url}`).toBe('PUT /fhir/ImagingStudy/1.2.3');
    expect(request.headers['if-match']).toBe('W/"1"');
    expect(JSON.parse(request.body)).toEqual({ resourceType: 'ImagingStudy', status: 'available', id: '1.2.3' });

    await client.create('Endpoint', { resourceType: 'Endpoint' }, { ifNoneExist: 'identifier=urn%3Aietf%3Arfc%3A3986%7Chttps%3A%2F%2Fx' });
    request = seen.at(-1)!;
    expect(`${request.method} ${request.url}`).toBe('POST /fhir/Endpoint');
    expect(request.headers['if-none-exist']).toBe('identifier=urn%3Aietf%3Arfc%3A3986%7Chttps%3A%2F%2Fx');
  });
});
