/**
 * The one access model of the HTTP listener: who may see patient data or
 * change state. Every protected path asks `authorize(req, scope)`:
 *
 * - scope `admin`: `/studies`, `/studies/{uid}`, `/status`, the republish
 *   POSTs, the admin console's JSON API (/admin/api/, admin-api.ts);
 * - scope `fhir`: everything under `/fhir`.
 *
 * `/healthz`, `/readyz` and `/metrics` are open and carry no patient data.
 *
 * Rules:
 * - no token configured: open, which is only allowed when the listener is
 *   bound to loopback (the constructor refuses otherwise; the configuration
 *   schema refuses it first, with exit 2);
 * - `adminToken` (ADMIN_TOKEN) configured: both scopes need
 *   `Authorization: Bearer <adminToken>`, loopback included;
 * - `fhirToken` (FHIR_ENDPOINT_BEARER_TOKEN) is a read-only token for `/fhir`
 *   beside the admin token; without an admin token it stands in for it, so
 *   configuring any token protects every path.
 *
 * A session verifier (the admin console's login cookie) may be plugged in
 * with `useSessions`; it then grants requests as a token would, and is
 * responsible for CSRF protection of unsafe methods.
 *
 * Tokens are compared in constant time: SHA-256 digests (equal length) with
 * crypto.timingSafeEqual, against every candidate.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../config/loopback.js';

export type AccessScope = 'admin' | 'fhir';

/** How a request was let in. */
export type AccessGrant = 'loopback' | 'admin-token' | 'fhir-token' | 'session';

export type AccessDecision =
  | { allowed: true; grant: AccessGrant }
  | { allowed: false; status: 401; reason: string; headers: Record<string, string> };

/** The admin console's sessions: true when the request carries a valid session for the scope. */
export interface SessionVerifier {
  verify(req: IncomingMessage, scope: AccessScope): boolean;
}

export interface AccessOptions {
  /** Where the HTTP listener binds (http.host). */
  host: string;
  /** http.adminToken (ADMIN_TOKEN). */
  adminToken?: string;
  /** fhirEndpoint.bearerToken (FHIR_ENDPOINT_BEARER_TOKEN). */
  fhirToken?: string;
  sessions?: SessionVerifier;
}

/** The listener would expose patient data: not loopback and no token. */
export class AccessConfigurationError extends Error {
  override readonly name = 'AccessConfigurationError';
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="dicom-fhir-bridge"' };

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header.trim());
  return m ? m[1] : undefined;
}

export class HttpAccess {
  private readonly candidates: Record<AccessScope, Array<{ digest: Buffer; grant: AccessGrant }>>;
  private sessions: SessionVerifier | undefined;
  /** A token (or the console's login) is needed on protected paths. */
  readonly tokenRequired: boolean;

  constructor(options: AccessOptions) {
    const admin = options.adminToken ?? options.fhirToken;
    this.tokenRequired = admin !== undefined;
    if (!this.tokenRequired && !isLoopbackHost(options.host)) {
      throw new AccessConfigurationError(
        `HTTP_HOST ${options.host} is not loopback and neither ADMIN_TOKEN nor FHIR_ENDPOINT_BEARER_TOKEN is set: patient data would be open to the network`,
      );
    }
    const adminGrant: AccessGrant = options.adminToken !== undefined ? 'admin-token' : 'fhir-token';
    const adminCandidates = admin === undefined ? [] : [{ digest: digest(admin), grant: adminGrant }];
    const fhirOnly =
      options.adminToken !== undefined && options.fhirToken !== undefined ? [{ digest: digest(options.fhirToken), grant: 'fhir-token' as const }] : [];
    this.candidates = { admin: adminCandidates, fhir: [...adminCandidates, ...fhirOnly] };
    this.sessions = options.sessions;
  }

  /** Plugs in the admin console's session check. */
  useSessions(verifier: SessionVerifier): void {
    this.sessions = verifier;
  }

  /** The grant a presented token earns for the scope (the console's login checks it too), or undefined. */
  checkToken(presented: string, scope: AccessScope): AccessGrant | undefined {
    const d = digest(presented);
    let grant: AccessGrant | undefined;
    // Every candidate is compared, so the time does not tell which one matched.
    for (const c of this.candidates[scope]) if (timingSafeEqual(d, c.digest) && grant === undefined) grant = c.grant;
    return grant;
  }

  authorize(req: IncomingMessage, scope: AccessScope): AccessDecision {
    if (!this.tokenRequired) return { allowed: true, grant: 'loopback' };
    const presented = bearerOf(req);
    if (presented !== undefined) {
      const grant = this.checkToken(presented, scope);
      if (grant !== undefined) return { allowed: true, grant };
    }
    if (this.sessions?.verify(req, scope)) return { allowed: true, grant: 'session' };
    return {
      allowed: false,
      status: 401,
      reason: presented === undefined ? 'a bearer token is required (Authorization: Bearer <ADMIN_TOKEN>)' : 'wrong bearer token',
      headers: { ...CHALLENGE },
    };
  }
}
