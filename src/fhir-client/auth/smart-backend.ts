/**
 * fhir.auth.type `smart-backend`: SMART Backend Services (SMART App Launch 2.x,
 * "Backend Services"): client credentials grant authenticated by a JWT
 * (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`)
 * signed with the client's private key (RS384 or ES384), header `kid` and
 * `typ: JWT`; claims iss = sub = client id, aud = token URL, exp ≤ 5 minutes
 * ahead, a fresh jti. The key file is PEM (PKCS#8) or a JWK (JSON).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CryptoKey, JWK, KeyObject } from 'jose';
import { TokenError } from './auth-provider.js';
import { OAuthTokenAuth, type OAuthTokenOptions, type TokenRequest } from './oauth-token.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface SmartBackendOptions extends OAuthTokenOptions {
  clientId: string;
  privateKeyFile: string;
  alg: 'RS384' | 'ES384';
  kid: string;
  /** Assertion lifetime in seconds (at most 300 by the SMART specification); default 300. */
  assertionLifetimeSeconds?: number;
}

/** jose is loaded with the first key: a bridge without SMART backend auth never pays its memory (issue 20, item 6). */
function loadJose(): Promise<typeof import('jose')> {
  return import('jose');
}

export async function loadPrivateKey(file: string, alg: string): Promise<CryptoKey | KeyObject | Uint8Array> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new TokenError(`private key file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const { importJWK, importPKCS8 } = await loadJose();
  try {
    if (text.startsWith('{')) return await importJWK(JSON.parse(text) as JWK, alg);
    return await importPKCS8(text, alg);
  } catch (err) {
    // Never the key's text in the message.
    throw new TokenError(`private key file ${file}: not a PKCS#8 PEM or JWK private key for ${alg} (${(err as Error).name})`);
  }
}

export class SmartBackendAuth extends OAuthTokenAuth {
  private key: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;

  constructor(private readonly smart: SmartBackendOptions) {
    super(smart);
  }

  protected async tokenRequest(): Promise<TokenRequest> {
    this.key ??= loadPrivateKey(this.smart.privateKeyFile, this.smart.alg);
    let key;
    try {
      key = await this.key;
    } catch (err) {
      this.key = undefined; // a fixed file is picked up next time
      throw err;
    }
    const now = Math.floor(this.now() / 1000);
    const { SignJWT } = await loadJose();
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: this.smart.alg, kid: this.smart.kid, typ: 'JWT' })
      .setIssuer(this.smart.clientId)
      .setSubject(this.smart.clientId)
      .setAudience(this.smart.tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.min(300, this.smart.assertionLifetimeSeconds ?? 300))
      .setJti(randomUUID())
      .sign(key);
    return { form: { client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion } };
  }
}
