import type { ServerResponse } from 'node:http';

/** Answers with `body` as JSON (or as text with `contentType`), with its length; the one way http/ answers. */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, contentType?: string): void {
  const text = contentType ? String(body) : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
