/**
 * The bridge's HTTP server: a malformed request gets 400 and the server goes
 * on (it threw out of the handler before); /status and /readyz with the
 * built-in endpoint's index stalled.
 */
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteResourceIndex } from '../../src/fhir-endpoint/sqlite-resource-index.js';
import { HttpAccess } from '../../src/http/access.js';
import type { FhirIndexCondition } from '../../src/fhir-endpoint/index.js';
import { createHttpServer } from '../../src/http/server.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { Writable } from 'node:stream';
import pino from 'pino';
import { silentLogger, tempDir } from '../pipeline/helpers.js';

const logged: any[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk, _enc, cb) {
      logged.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((l: string) => JSON.parse(l)));
      cb();
    },
  }),
);

let pipeline: Pipeline;
let index: SqliteResourceIndex;
let temp: { dir: string; remove: () => Promise<void> };
let http: Server;
let port: number;
let fhirIndex: FhirIndexCondition = { state: 'ok' };

beforeAll(async () => {
  temp = await tempDir('http-server-');
  pipeline = openSqlitePipeline({ dataDir: temp.dir, logger: silentLogger });
  index = new SqliteResourceIndex({ dataDir: temp.dir, fhirVersion: 'R4', timezone: 'UTC' });
  http = createHttpServer({
    store: pipeline.store,
    queue: pipeline.queue,
    isReady: () => true,
    logger,
    fhirTarget: undefined,
    schedule: { debounceMs: 50, maxDelayMs: 500 },
    access: new HttpAccess({ host: '127.0.0.1' }),
    fhirEndpoint: { index, fhirVersion: 'R4', timezone: 'UTC', logger },
    fhirIndex: () => fhirIndex,
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  port = (http.address() as AddressInfo).port;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
  await index.close();
  await pipeline.close();
  await temp.remove();
});

/** Sends raw bytes, returns the status line of the answer. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (d) => {
      data += d;
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
  });
}

describe('createHttpServer', () => {
  it('answers 400 to malformed percent-encoding in a study UID of a path (a URIError, 500, before)', async () => {
    for (const path of ['/studies/%zz', '/studies/%', '/studies/%C0%AF', '/studies/%ED%A0%80']) {
      expect(await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`), path).toBe('HTTP/1.1 400 Bad Request');
      expect(await raw(`POST ${path}/republish HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`), path).toBe('HTTP/1.1 400 Bad Request');
    }
    for (const path of ['/fhir/ImagingStudy/%zz', '/fhir/%zz']) expect(await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`), path).toBe('HTTP/1.1 400 Bad Request');
    // A valid encoding is still decoded: an unknown study is a 404.
    expect(await raw('GET /studies/1.2.%33 HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('HTTP/1.1 404 Not Found');
    expect(await raw('POST /studies/1.2.%33/republish HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')).toBe('HTTP/1.1 404 Not Found');
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('takes `//` paths as paths, answers 400 to a target that does not parse, and goes on serving', async () => {
    for (const path of ['//', '//fhir', '//studies', '//fhir/metadata']) expect(await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`), path).toBe('HTTP/1.1 404 Not Found');
    for (const target of ['http://[', 'http://a:99999/fhir']) expect(await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`), target).toBe('HTTP/1.1 400 Bad Request');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/fhir/metadata`)).status).toBe(200);
  });

  it('shows the FHIR index condition in /status, and keeps /readyz 200 while only the index is stalled', async () => {
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: (await res.json()) as any };
    };
    const ok = await get('/status');
    expect(ok.status).toBe(200);
    expect(ok.body.fhirIndex).toEqual({ state: 'ok' });

    fhirIndex = { state: 'stalled', since: '2026-01-02T03:04:05.000Z', reason: 'no call to fhir-index.sqlite returned within 2000 ms' };
    try {
      const stalled = await get('/status');
      expect(stalled.status).toBe(200);
      expect(stalled.body.fhirIndex).toEqual(fhirIndex);
      expect(stalled.body.studies).toBeDefined();
      expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    } finally {
      fhirIndex = { state: 'ok' };
    }
  });
});
