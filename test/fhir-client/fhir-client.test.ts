import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FhirClient,
  FhirHttpError,
  FhirNetworkError,
  FhirProtocolError,
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
    // Each answer the resource its request expects (the client refuses any other).
    answer = (req, res) =>
      json(res, 200, { resourceType: req.url!.startsWith('/fhir/Patient/') ? 'Patient' : req.url === '/fhir/metadata' ? 'CapabilityStatement' : 'Bundle', type: 'transaction-response' });
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

    answer = (_req, res) => json(res, 201, { resourceType: 'Endpoint', id: 'e1' });
    await client.create('Endpoint', { resourceType: 'Endpoint' }, { ifNoneExist: 'identifier=urn%3Aietf%3Arfc%3A3986%7Chttps%3A%2F%2Fx' });
    request = seen.at(-1)!;
    expect(`${request.method} ${request.url}`).toBe('POST /fhir/Endpoint');
    expect(request.headers['if-none-exist']).toBe('identifier=urn%3Aietf%3Arfc%3A3986%7Chttps%3A%2F%2Fx');
  });
});

describe('FhirClient: answers that are not FHIR, and redirects (issue 21 item 3)', () => {
  it('a 2xx must carry the resource expected: HTML, invalid JSON, another type and (for reads) an empty body are retryable FhirProtocolErrors', async () => {
    const client = new FhirClient({ baseUrl: base, timeoutMs: 5_000 });
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as FhirProtocolError);
    answer = (_req, res) => void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html>login</html>');
    let err = await failure(client.read('ImagingStudy', 'a'));
    expect(err).toBeInstanceOf(FhirProtocolError);
    expect(err!.message).toBe('GET ImagingStudy/a → 200: a body that is not JSON (text/html), not the ImagingStudy expected');
    expect(isRetryable(err)).toBe(true);
    answer = (_req, res) => json(res, 200, { resourceType: 'Patient', id: 'p' });
    expect((await failure(client.search('ImagingStudy', 'x=1')))!.message).toBe('GET ImagingStudy → 200: a Patient, not the Bundle expected');
    answer = (_req, res) => void res.writeHead(200).end();
    expect((await failure(client.metadata()))!.message).toBe('GET metadata → 200: an empty body, not the CapabilityStatement or Conformance expected');
    // A write may answer without the resource: the caller reads back.
    answer = (_req, res) => void res.writeHead(201, { location: `${base}ImagingStudy/z/_history/1` }).end();
    expect(await client.update('ImagingStudy', 'z', { resourceType: 'ImagingStudy' })).toEqual({ status: 201, location: `${base}ImagingStudy/z/_history/1` });
    answer = (_req, res) => json(res, 200, { resourceType: 'Conformance', fhirVersion: '1.0.2' });
    expect((await client.metadata()).resource).toMatchObject({ resourceType: 'Conformance' });
  });

  it('redirects: another origin is never contacted; same origin is followed with the headers, 307/308 for writes only, at most 5 hops', async () => {
    const other: Seen[] = [];
    const otherServer = createServer((req, res) => {
      other.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
      req.resume();
      json(res, 200, { resourceType: 'ImagingStudy', id: 'x' });
    });
    await new Promise<void>((resolve) => otherServer.listen(0, '127.0.0.1', resolve));
    const otherOrigin = `http://127.0.0.1:${(otherServer.address() as AddressInfo).port}`;
    try {
      const client = new FhirClient({ baseUrl: base, timeoutMs: 5_000, headers: { 'x-api-key': 'k1' } });
      const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as FhirProtocolError);
      answer = (req, res) => void res.writeHead(307, { location: `${otherOrigin}${req.url}` }).end();
      const err = await failure(client.update('ImagingStudy', 'x', { resourceType: 'ImagingStudy' }));
      expect(err).toBeInstanceOf(FhirProtocolError);
      expect(err!.message).toContain(`307: a redirect to another origin (${otherOrigin}), not followed`);
      expect(other).toEqual([]);

      // Same origin: followed, with the extra headers; a 302 for a PUT is not (the body would be dropped).
      answer = (req, res) => {
        if (req.url!.endsWith('/moved')) json(res, 200, { resourceType: 'ImagingStudy', id: 'x' });
        else res.writeHead(req.method === 'GET' ? 302 : 308, { location: '/fhir/ImagingStudy/moved' }).end();
      };
      expect((await client.update('ImagingStudy', 'x', { resourceType: 'ImagingStudy' })).resource).toMatchObject({ id: 'x' });
      expect(seen.at(-1)).toMatchObject({ method: 'PUT', url: '/fhir/ImagingStudy/moved', headers: { 'x-api-key': 'k1' } });
      expect((await client.read('ImagingStudy', 'x')).resource).toMatchObject({ id: 'x' });
      answer = (_req, res) => void res.writeHead(302, { location: '/fhir/ImagingStudy/moved' }).end();
      expect((await failure(client.update('ImagingStudy', 'x', { resourceType: 'ImagingStudy' })))!.message).toContain('a PUT redirected with 302');
      const before = seen.length;
      answer = (_req, res) => void res.writeHead(307, { location: '/fhir/ImagingStudy/loop' }).end();
      expect((await failure(client.read('ImagingStudy', 'x')))!.message).toContain('more than 5 redirects');
      expect(seen.length - before).toBe(6);
    } finally {
      otherServer.closeAllConnections();
      await new Promise((resolve) => otherServer.close(resolve));
    }
  });
});
