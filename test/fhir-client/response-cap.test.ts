/**
 * Every response body the FHIR client reads is capped (issue 21 item 10):
 * a server sending 400 MiB (generated chunk by chunk as the socket drains,
 * never held by the test) gets a retryable error naming the cap, the client
 * stops reading, and this process's RSS stays far below the body's size.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient, FhirHttpError, FhirProtocolError, isRetryable } from '../../src/fhir-client/fhir-client.js';

const BODY_BYTES = 400 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x20); // spaces: valid leading JSON whitespace, never complete
const CAP = 4 * 1024 * 1024;

let server: Server;
let base: string;
let sent = 0;
let mode: { status: number; declareLength: boolean } = { status: 200, declareLength: false };

/** Writes BODY_BYTES as the socket drains; stops when the client goes away. */
function stream(res: ServerResponse): void {
  let left = BODY_BYTES;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      sent += n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => (left = 0));
  pump();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(mode.status, { 'content-type': 'application/fhir+json', ...(mode.declareLength ? { 'content-length': String(BODY_BYTES) } : {}) });
    stream(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Runs `f`, sampling RSS; the peak growth over the start in MiB. */
async function peakGrowthMib<T>(f: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    const result = await f();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: (peak - start) / (1024 * 1024) };
  } finally {
    clearInterval(timer);
  }
}

describe('FHIR response bodies are capped (FHIR_MAX_RESPONSE_BYTES)', () => {
  it.each([
    ['chunked, no Content-Length', false],
    ['with Content-Length', true],
  ])('a 400 MiB 200 answer (%s) is a retryable error naming the cap; reading stops; RSS stays bounded', async (_name, declareLength) => {
    mode = { status: 200, declareLength };
    sent = 0;
    const client = new FhirClient({ baseUrl: base, timeoutMs: 60_000, maxResponseBytes: CAP });
    const { result: err, growth } = await peakGrowthMib(() => client.read('ImagingStudy', 'big').then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(FhirProtocolError);
    expect((err as Error).message).toMatch(
      new RegExp(`^GET ImagingStudy/big → 200: the answer is larger than ${CAP} bytes${declareLength ? ` \\(Content-Length ${BODY_BYTES}\\)` : ''} \\(FHIR_MAX_RESPONSE_BYTES\\), not read$`),
    );
    expect(isRetryable(err)).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // the server sees the close
    console.log(`response cap (${_name}): server wrote ${(sent / 1048576).toFixed(1)} MiB of 400 before the client left; RSS growth ${growth.toFixed(0)} MiB`);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    expect(growth).toBeLessThan(100);
  });

  it('an error status with a 400 MiB body keeps its status (a 503 stays retryable), the body unread', async () => {
    mode = { status: 503, declareLength: false };
    sent = 0;
    const client = new FhirClient({ baseUrl: base, timeoutMs: 60_000, maxResponseBytes: CAP });
    const err = await client.search('ImagingStudy', 'x=1').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FhirHttpError);
    expect((err as FhirHttpError).status).toBe(503);
    expect(isRetryable(err)).toBe(true);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});
