/**
 * A 2xx that is not FHIR is not a success (issue 21 item 3). A small real
 * HTTP server (node:http) stands in front of the real FHIR server (Medplum,
 * test/support/fhir-server.ts) as a misbehaving proxy would, and answers the
 * ImagingStudy write itself, in one way at a time: an HTML login page,
 * invalid JSON, another resource type, an empty 200, an OperationOutcome with
 * nothing written, a 307 to another origin. Each leaves the study pending
 * (retried) with the reason in lastError and nothing on the server; the same
 * publish once the proxy behaves publishes it. An honest empty 201
 * (return=minimal) and a same-origin 307 are followed through to published.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FhirClient, FhirProtocolError } from '../../src/fhir-client/fhir-client.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { Publisher } from '../../src/publish/publisher.js';
import { makeRecord, silentLogger, tempDir } from '../pipeline/helpers.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';

const mappingOptions: MappingOptions = {
  fhirVersion: 'R4',
  patientIdentifier: { defaultSystem: 'urn:dicom-fhir-bridge:patient-id', issuerSystems: {} },
  timezone: 'UTC',
  basedOn: 'off',
};
const API_KEY = 'x-api-key-secret-0001';

/** How the proxy answers a write of ImagingStudy (anything else is passed through). */
type Misbehaviour = (req: IncomingMessage, res: ServerResponse, forward: () => Promise<void>) => void | Promise<void>;

let fhir: TestFhirServer;
let proxy: Server;
let proxyBase: string;
let misbehave: Misbehaviour | undefined;
/** Another origin, where a redirect points: it answers as if it were the FHIR server. */
let elsewhere: Server;
let elsewhereUrl: string;
const elsewhereSeen: IncomingMessage['headers'][] = [];
const opened: Array<{ pipeline: Pipeline; remove: () => Promise<void> }> = [];

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

beforeAll(async () => {
  fhir = await startFhirServer();
  const upstream = new URL(fhir.baseUrl);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = async () => {
        const answer = await fetch(`${upstream.origin}${req.url}`, {
          method: req.method!,
          headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length') as [string, string][]),
          ...(body.length > 0 ? { body } : {}),
        });
        const text = await answer.text();
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'location', 'etag', 'last-modified']) {
          const value = answer.headers.get(name);
          if (value !== null) headers[name] = value.replace(upstream.origin, new URL(proxyBase).origin);
        }
        res.writeHead(answer.status, headers).end(text);
      };
      const isStudyWrite = req.method !== 'GET' && req.url!.includes('/ImagingStudy');
      Promise.resolve(isStudyWrite && misbehave ? misbehave(req, res, forward) : forward()).catch((err: unknown) => {
        res.writeHead(502).end(String(err));
      });
    });
  });
  proxyBase = `http://127.0.0.1:${await listen(proxy)}${upstream.pathname}`;
  elsewhere = createServer((req, res) => {
    elsewhereSeen.push(req.headers);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'ImagingStudy', id: 'phished', status: 'available' }));
  });
  elsewhereUrl = `http://127.0.0.1:${await listen(elsewhere)}`;
}, 60_000);

afterAll(async () => {
  await close(proxy);
  await close(elsewhere);
  await fhir?.close();
});

beforeEach(() => {
  fhir.reset();
  misbehave = undefined;
  elsewhereSeen.length = 0;
});

afterEach(async () => {
  for (const { pipeline, remove } of opened.splice(0)) {
    await pipeline.close();
    await remove();
  }
});

async function studyPipeline(uid: string): Promise<Pipeline> {
  const temp = await tempDir();
  const pipeline = openSqlitePipeline({ dataDir: temp.dir, logger: silentLogger });
  opened.push({ pipeline, remove: temp.remove });
  await pipeline.store.mergeInstances(
    [0, 1].map((k) => makeRecord({ study: uid, series: `${uid}.1`, seriesNumber: 1, sop: `${uid}.9.${k}`, instanceNumber: k + 1, patientId: 'P1' })),
  );
  return pipeline;
}

function publisher(pipeline: Pipeline): Publisher {
  return new Publisher({
    queue: pipeline.queue,
    store: pipeline.store,
    client: new FhirClient({ baseUrl: proxyBase, timeoutMs: 10_000, headers: { 'x-api-key': API_KEY } }),
    mappingOptionsFor: () => mappingOptions,
    logger: silentLogger,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    probe: false,
  });
}

async function studiesOnServer(uid: string): Promise<unknown[]> {
  const bundle = (await fhir.search(`ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${uid}`)}`)) as { entry?: unknown[] };
  return bundle.entry ?? [];
}

const LOGIN_PAGE = '<!doctype html><html><body><form action="/login">Sign in</form></body></html>';

const cases: Array<[string, Misbehaviour, RegExp]> = [
  ['an HTML login page (200 text/html)', (_q, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end(LOGIN_PAGE), /200: a body that is not JSON \(text\/html\)/],
  ['invalid JSON', (_q, res) => void res.writeHead(200, { 'content-type': 'application/fhir+json' }).end('{"resourceType": "ImagingStudy", "id": '), /200: a body that is not JSON \(application\/fhir\+json\)/],
  ['another resource type', (_q, res) => void res.writeHead(200, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"Patient","id":"x"}'), /200: a Patient, not the ImagingStudy expected/],
  ['JSON that is not a resource', (_q, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), /200: JSON that is not a FHIR resource/],
  ['an empty 200 with nothing written', (_q, res) => void res.writeHead(200).end(), /200 with no resource in the answer, and the read back does not find the study/],
  [
    'an OperationOutcome 201 with nothing written',
    (_q, res) => void res.writeHead(201, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}'),
    /201 with no resource in the answer, and the read back does not find the study/,
  ],
  ['a 307 to another origin', (req, res) => void res.writeHead(307, { location: `${elsewhereUrl}${req.url}` }).end(), /307: a redirect to another origin \(http:\/\/127\.0\.0\.1:\d+\), not followed/],
];

describe('a 2xx that is not the resource written is a retryable failure', () => {
  it.each(cases)('%s: pending with the reason in lastError, nothing on the server, published once the proxy behaves', async (_name, answer, reason) => {
    const uid = `1.2.826.0.1.3680043.8.498.21.3.${cases.findIndex(([, a]) => a === answer)}`;
    const pipeline = await studyPipeline(uid);
    const p = publisher(pipeline);
    misbehave = answer;
    const err = await p.publish(uid).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FhirProtocolError);
    const publish = (await pipeline.store.getSummary(uid))?.publish;
    expect(publish?.state).toBe('pending');
    expect(publish?.lastError).toMatch(reason);
    expect(publish?.lastError).not.toContain('Sign in'); // the server's body is not quoted
    expect(await studiesOnServer(uid)).toHaveLength(0);
    // Credentials and FHIR_HEADERS never leave for the other origin (there is no request at all).
    expect(elsewhereSeen).toEqual([]);

    misbehave = undefined;
    await p.publish(uid);
    expect((await pipeline.store.getSummary(uid))?.publish).toMatchObject({ state: 'published' });
    expect(await studiesOnServer(uid)).toHaveLength(1);
  });
});

describe('answers that are a success', () => {
  it('an empty 201 after the write (Prefer return=minimal) is confirmed by a read back and published', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.21.3.100';
    const pipeline = await studyPipeline(uid);
    misbehave = async (_req, res, forward) => {
      // Forward, but drop the body from the answer.
      const end = res.end.bind(res);
      res.end = ((..._args: unknown[]) => end()) as typeof res.end;
      await forward();
    };
    await publisher(pipeline).publish(uid);
    expect((await pipeline.store.getSummary(uid))?.publish).toMatchObject({ state: 'published' });
    const [entry] = (await studiesOnServer(uid)) as Array<{ resource: { id: string } }>;
    expect((await pipeline.store.getSummary(uid))?.publish.resourceId).toBe(entry!.resource.id);
    // The read back: by the id in the Location the server sent, after the PUT.
    const urls = fhir.requests.map((r) => `${r.method} ${r.url.replace(/^.*?\/ImagingStudy/, 'ImagingStudy')}`);
    const put = urls.findIndex((u) => u.startsWith('PUT ImagingStudy?'));
    expect(urls.slice(put + 1)).toEqual([`GET ImagingStudy/${entry!.resource.id}`]);
  });

  it('a 307 to the same origin is followed with the same method, body and headers', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.21.3.101';
    const pipeline = await studyPipeline(uid);
    let redirected = 0;
    misbehave = async (req, res, forward) => {
      if (req.url!.includes('redirected=1')) return forward();
      redirected++;
      res.writeHead(307, { location: `${req.url}&redirected=1` }).end();
    };
    await publisher(pipeline).publish(uid);
    expect(redirected).toBe(1);
    expect((await pipeline.store.getSummary(uid))?.publish).toMatchObject({ state: 'published' });
    expect(await studiesOnServer(uid)).toHaveLength(1);
    const put = fhir.requests.find((r) => r.method === 'PUT' && r.url.includes('redirected=1'));
    expect(put?.headers['x-api-key']).toBe(API_KEY);
  });
});
