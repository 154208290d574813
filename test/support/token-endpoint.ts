/**
 * A small OAuth 2.0 token endpoint for tests (node:http on 127.0.0.1): the
 * client credentials grant, authenticated by a client secret (HTTP Basic or
 * form fields) or, for SMART Backend Services, by a JWT client assertion that
 * it verifies with the client's public key (jose). Issues `tok-1`, `tok-2`, ...
 * and records every request.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify, type CryptoKey, type JWTHeaderParameters, type JWTPayload, type KeyObject } from 'jose';

export interface TokenRequestRecord {
  headers: Record<string, string | string[] | undefined>;
  /** The form fields of the body. */
  form: Record<string, string>;
  status: number;
  /** SMART: the verified assertion, when it verified. */
  assertion?: { header: JWTHeaderParameters; payload: JWTPayload };
  /** SMART: why the assertion did not verify. */
  assertionError?: string;
}

export interface TokenEndpointOptions {
  clientId: string;
  /** Client secret (client-credentials). */
  clientSecret?: string;
  /** Public key that verifies SMART client assertions. */
  publicKey?: CryptoKey | KeyObject;
  /** expires_in of issued tokens (seconds; default 3600). */
  expiresIn?: number;
}

export interface TestTokenEndpoint {
  /** The token URL, e.g. http://127.0.0.1:PORT/token. */
  url: string;
  requests: TokenRequestRecord[];
  /** Tokens issued so far, in order. */
  issued: string[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic (.+)$/.exec(header ?? '');
  if (!m) return undefined;
  const [id, secret] = Buffer.from(m[1]!, 'base64').toString('utf8').split(':');
  const dec = (s: string | undefined) => decodeURIComponent((s ?? '').replace(/\+/g, ' '));
  return { id: dec(id), secret: dec(secret) };
}

export async function startTokenEndpoint(options: TokenEndpointOptions): Promise<TestTokenEndpoint> {
  const requests: TokenRequestRecord[] = [];
  const issued: string[] = [];
  let url = '';
  const server = createServer((req, res) => {
    void (async () => {
      const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
      const record: TokenRequestRecord = { headers: { ...req.headers }, form, status: 0 };
      requests.push(record);
      const answer = (status: number, body: unknown) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || form.grant_type !== 'client_credentials') {
        return answer(400, { error: 'unsupported_grant_type' });
      }
      let authenticated = false;
      if (form.client_assertion_type !== undefined) {
        if (options.publicKey && form.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
          try {
            const { payload, protectedHeader } = await jwtVerify(form.client_assertion ?? '', options.publicKey, {
              issuer: options.clientId,
              subject: options.clientId,
              audience: url,
              maxTokenAge: '5 minutes',
            });
            record.assertion = { header: protectedHeader, payload };
            authenticated = typeof payload.jti === 'string' && typeof payload.exp === 'number';
          } catch (err) {
            record.assertionError = (err as Error).message;
          }
        }
      } else {
        const basic = basicCredentials(req.headers.authorization);
        const id = basic?.id ?? form.client_id;
        const secret = basic?.secret ?? form.client_secret;
        authenticated = options.clientSecret !== undefined && id === options.clientId && secret === options.clientSecret;
      }
      if (!authenticated) return answer(401, { error: 'invalid_client', error_description: 'client authentication failed' });
      const token = `tok-${issued.length + 1}`;
      issued.push(token);
      answer(200, { access_token: token, token_type: 'bearer', expires_in: options.expiresIn ?? 3600, scope: form.scope });
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    url,
    requests,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
