/** Configuration (`fhir:`) → FhirClient with auth, extra headers and TLS. */
import type { Logger } from 'pino';
import { createAuthProvider, type FhirAuthConfig } from './auth/index.js';
import { FhirClient } from './fhir-client.js';
import { tlsFetch, type FhirTlsConfig } from './tls.js';

export interface FhirClientConfig {
  baseUrl?: string;
  requestTimeoutMs: number;
  maxResponseBytes?: number;
  auth?: FhirAuthConfig;
  headers?: Record<string, string>;
  tls?: FhirTlsConfig;
}

/** Undefined when no FHIR server is configured. Throws on unusable auth or TLS settings (read at start). */
export function createFhirClient(fhir: FhirClientConfig, logger: Logger): FhirClient | undefined {
  if (!fhir.baseUrl) return undefined;
  const tls = tlsFetch(fhir.tls);
  const auth = createAuthProvider(fhir.auth ?? { type: 'none' }, { timeoutMs: fhir.requestTimeoutMs, fetch: tls?.fetch });
  logger.info(
    {
      baseUrl: fhir.baseUrl,
      auth: fhir.auth?.type ?? 'none',
      extraHeaders: Object.keys(fhir.headers ?? {}), // names only: values may be credentials
      tls: tls ? { caFile: fhir.tls?.caFile ?? null, clientCertificate: fhir.tls?.certFile !== undefined, rejectUnauthorized: fhir.tls?.rejectUnauthorized !== false } : 'default',
    },
    'FHIR client',
  );
  return new FhirClient({
    baseUrl: fhir.baseUrl,
    timeoutMs: fhir.requestTimeoutMs,
    ...(fhir.maxResponseBytes !== undefined ? { maxResponseBytes: fhir.maxResponseBytes } : {}),
    headers: fhir.headers,
    auth,
    ...(tls ? { fetch: tls.fetch } : {}),
  });
}
