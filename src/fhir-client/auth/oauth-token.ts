/**
 * An OAuth 2.0 access token from a token endpoint (RFC 6749 4.4, client
 * credentials grant), cached until shortly before `expires_in` runs out and
 * fetched once for all concurrent callers. The grant's client authentication
 * (secret, or SMART's signed JWT assertion) is the subclass's.
 */
import { errorMessage } from '../../errors.js';
import { TokenError, type AuthProvider } from './auth-provider.js';
import { DEFAULT_MAX_RESPONSE_BYTES, readBody } from '../read-body.js';

export interface TokenRequest {
  /** Form parameters besides grant_type. */
  form: Record<string, string>;
  headers?: Record<string, string>;
}

export interface OAuthTokenOptions {
  tokenUrl: string;
  scope?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Lifetime assumed when the endpoint sends no expires_in (seconds; default 300). */
  defaultExpiresInSeconds?: number;
}

/** Refresh this long before expiry: 60 s, or a tenth of a short lifetime. */
export function refreshMarginMs(expiresInSeconds: number): number {
  return Math.min(60_000, expiresInSeconds * 100);
}

export abstract class OAuthTokenAuth implements AuthProvider {
  private cached: { token: string; tokenType: string; refreshAt: number } | undefined;
  private inFlight: Promise<{ token: string; tokenType: string }> | undefined;
  protected readonly now: () => number;

  constructor(protected readonly options: OAuthTokenOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Client authentication of one token request. */
  protected abstract tokenRequest(): Promise<TokenRequest>;

  async authorization(): Promise<string> {
    if (this.cached !== undefined && this.now() < this.cached.refreshAt) {
      return `${this.cached.tokenType} ${this.cached.token}`;
    }
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    const { token, tokenType } = await this.inFlight;
    return `${tokenType} ${token}`;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async fetchToken(): Promise<{ token: string; tokenType: string }> {
    const { tokenUrl, scope, timeoutMs } = this.options;
    const request = await this.tokenRequest();
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}), ...request.form });
    let response: Response;
    let text: string;
    try {
      response = await (this.options.fetch ?? fetch)(tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...request.headers },
        body: form.toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      // A token answer is small: the same cap as FHIR answers' default, over it the answer is ignored.
      text = (await readBody(response, DEFAULT_MAX_RESPONSE_BYTES)).text;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new TokenError(`token endpoint ${tokenUrl}: ${cause ?? (errorMessage(err))}`, undefined, { cause: err });
    }
    let body: { access_token?: unknown; token_type?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // reported below
    }
    if (!response.ok || typeof body.access_token !== 'string' || body.access_token === '') {
      // The error and its description (RFC 6749 5.2) never contain the secret.
      const why = typeof body.error === 'string' ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}` : 'no access_token in the answer';
      throw new TokenError(`token endpoint ${tokenUrl} → ${response.status}: ${why}`, response.status);
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0
      ? body.expires_in
      : Number(body.expires_in) > 0 ? Number(body.expires_in) : (this.options.defaultExpiresInSeconds ?? 300);
    // Token type is case-insensitive (RFC 6749 7.1); servers say "bearer" or "Bearer": send "Bearer".
    const tokenType = typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer' ? body.token_type : 'Bearer';
    this.cached = { token: body.access_token, tokenType, refreshAt: this.now() + expiresIn * 1000 - refreshMarginMs(expiresIn) };
    return { token: body.access_token, tokenType };
  }
}
