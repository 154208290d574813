/** Where the Authorization header of FHIR requests comes from (fhir.auth.type). */
export interface AuthProvider {
  /** The Authorization header value, e.g. `Bearer abc`; undefined: send none. May fetch a token. */
  authorization(): Promise<string | undefined>;
  /** Forget a cached token (the FHIR server answered 401); the next call gets a fresh one. */
  invalidate(): void;
}

/**
 * No token could be had: the token endpoint is unreachable or refused, or the
 * token file is unreadable. The publish is retried later (not the study's fault).
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    message: string,
    /** HTTP status of the token endpoint's answer, when there was one. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
