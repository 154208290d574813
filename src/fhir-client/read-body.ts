/**
 * Reads a response body as text, at most `maxBytes` of it (FHIR_MAX_RESPONSE_BYTES):
 * a server (or something in front of it) may send a body of any size, and
 * response.text() would hold all of it. The body is read chunk by chunk and
 * the stream cancelled (the connection dropped) once it is over the cap.
 */

export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface BodyText {
  text: string;
  /** The body was larger than the cap: `text` is empty and the rest was not read. */
  tooLarge?: { declared?: number };
}

export async function readBody(response: Response, maxBytes: number): Promise<BodyText> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return { text: '', tooLarge: { declared } };
  }
  if (response.body === null) return { text: '' };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { text: '', tooLarge: {} };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks, total).toString('utf8') };
}
