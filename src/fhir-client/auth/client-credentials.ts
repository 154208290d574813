/**
 * fhir.auth.type `client-credentials`: OAuth 2.0 client credentials grant with a
 * client secret (RFC 6749 4.4), sent as HTTP Basic (client_secret_basic, the
 * default) or in the form (client_secret_post). The secret is read from
 * configuration or from a file, each time a token is fetched (so a rotated
 * file applies at the next token).
 */
import { readFileSync } from 'node:fs';
import { TokenError } from './auth-provider.js';
import { OAuthTokenAuth, type OAuthTokenOptions, type TokenRequest } from './oauth-token.js';

export interface ClientCredentialsOptions extends OAuthTokenOptions {
  clientId: string;
  clientSecret?: string;
  clientSecretFile?: string;
  /** How the secret is presented; default 'basic'. */
  clientAuthMethod?: 'basic' | 'post';
}

/** RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function basic(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

export class ClientCredentialsAuth extends OAuthTokenAuth {
  constructor(private readonly cc: ClientCredentialsOptions) {
    super(cc);
  }

  private secret(): string {
    if (this.cc.clientSecret !== undefined) return this.cc.clientSecret;
    if (this.cc.clientSecretFile !== undefined) {
      try {
        return readFileSync(this.cc.clientSecretFile, 'utf8').trim();
      } catch (err) {
        throw new TokenError(`client secret file ${this.cc.clientSecretFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    throw new TokenError('client-credentials needs fhir.auth.clientSecret or fhir.auth.clientSecretFile');
  }

  protected async tokenRequest(): Promise<TokenRequest> {
    const secret = this.secret();
    if (this.cc.clientAuthMethod === 'post') {
      return { form: { client_id: this.cc.clientId, client_secret: secret } };
    }
    return { form: {}, headers: { Authorization: basic(this.cc.clientId, secret) } };
  }
}
