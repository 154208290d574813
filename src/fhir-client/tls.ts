/**
 * fhir.tls → a fetch that uses an undici Agent with the given trust and client
 * certificate (mutual TLS), undici loaded on the first request. Undici's own fetch is used with its own Agent so
 * the dispatcher and fetch come from one undici version (Node 20's bundled
 * fetch is an older undici).
 */
import { readFileSync } from 'node:fs';
import type { Agent } from 'undici';

export interface FhirTlsConfig {
  /** PEM CA bundle trusted instead of the system's CAs. */
  caFile?: string;
  /** PEM client certificate (chain) for mutual TLS. */
  certFile?: string;
  /** PEM private key of the client certificate. */
  keyFile?: string;
  /** Verify the server's certificate (default true). */
  rejectUnauthorized?: boolean;
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`fhir.tls.${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Whether the TLS settings differ from Node's defaults. */
export function hasTlsSettings(tls: FhirTlsConfig | undefined): boolean {
  return tls !== undefined && (tls.caFile !== undefined || tls.certFile !== undefined || tls.keyFile !== undefined || tls.rejectUnauthorized === false);
}

/** A fetch with these TLS settings (undefined: the defaults are fine, use the global fetch). */
export function tlsFetch(tls: FhirTlsConfig | undefined): { fetch: typeof fetch; close: () => Promise<void> } | undefined {
  if (!hasTlsSettings(tls)) return undefined;
  if ((tls!.certFile === undefined) !== (tls!.keyFile === undefined)) {
    throw new Error('fhir.tls.certFile and fhir.tls.keyFile go together (mutual TLS)');
  }
  // Read now, so a missing file is a configuration error at start, not a failed publish later.
  const connect = {
    ...(tls!.caFile ? { ca: read(tls!.caFile, 'caFile') } : {}),
    ...(tls!.certFile ? { cert: read(tls!.certFile, 'certFile') } : {}),
    ...(tls!.keyFile ? { key: read(tls!.keyFile, 'keyFile') } : {}),
    rejectUnauthorized: tls!.rejectUnauthorized !== false,
  };
  // undici is loaded with the first request: a bridge without TLS settings never pays its memory (issue 20, item 6).
  let client: Promise<{ agent: Agent; undiciFetch: typeof import('undici').fetch }> | undefined;
  const withAgent = (async (input: string | URL, init?: RequestInit) => {
    client ??= import('undici').then(({ Agent, fetch: undiciFetch }) => ({ agent: new Agent({ connect }), undiciFetch }));
    const { agent, undiciFetch } = await client;
    return undiciFetch(input, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
  }) as unknown as typeof fetch;
  return { fetch: withAgent, close: async () => (client ? (await client).agent.close() : undefined) };
}
