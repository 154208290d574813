/** fhir.auth → AuthProvider. */
import type { AuthProvider } from './auth-provider.js';
import { FileBearerAuth, StaticBearerAuth } from './bearer.js';
import { ClientCredentialsAuth } from './client-credentials.js';
import { SmartBackendAuth } from './smart-backend.js';

export { TokenError, type AuthProvider } from './auth-provider.js';
export { FileBearerAuth, StaticBearerAuth } from './bearer.js';
export { ClientCredentialsAuth } from './client-credentials.js';
export { JWT_BEARER_ASSERTION, SmartBackendAuth } from './smart-backend.js';

/** The `fhir.auth` configuration object (see config/schema.ts). */
export interface FhirAuthConfig {
  type: 'none' | 'bearer' | 'client-credentials' | 'smart-backend';
  bearerToken?: string;
  tokenFile?: string;
  tokenUrl?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  clientAuthMethod?: 'basic' | 'post';
  scope?: string;
  privateKeyFile?: string;
  alg?: 'RS384' | 'ES384';
  kid?: string;
}

/** Problems of an auth configuration (missing keys for its type); empty when usable. */
export function authConfigProblems(auth: FhirAuthConfig): string[] {
  const need = (keys: (keyof FhirAuthConfig)[]) => keys.filter((k) => auth[k] === undefined).map((k) => `fhir.auth.${k} is required for fhir.auth.type ${auth.type}`);
  switch (auth.type) {
    case 'none':
      return [];
    case 'bearer':
      return auth.bearerToken === undefined && auth.tokenFile === undefined
        ? ['fhir.auth.type bearer needs fhir.auth.bearerToken (FHIR_BEARER_TOKEN) or fhir.auth.tokenFile']
        : [];
    case 'client-credentials':
      return [
        ...need(['tokenUrl', 'clientId']),
        ...(auth.clientSecret === undefined && auth.clientSecretFile === undefined
          ? ['fhir.auth.type client-credentials needs fhir.auth.clientSecret or fhir.auth.clientSecretFile']
          : []),
      ];
    case 'smart-backend':
      return need(['tokenUrl', 'clientId', 'privateKeyFile', 'kid']);
  }
}

export function createAuthProvider(
  auth: FhirAuthConfig,
  options: { timeoutMs: number; fetch?: typeof fetch },
): AuthProvider | undefined {
  const problems = authConfigProblems(auth);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const common = { tokenUrl: auth.tokenUrl!, scope: auth.scope, timeoutMs: options.timeoutMs, fetch: options.fetch };
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'bearer':
      return auth.bearerToken !== undefined ? new StaticBearerAuth(auth.bearerToken) : new FileBearerAuth(auth.tokenFile!);
    case 'client-credentials':
      return new ClientCredentialsAuth({
        ...common,
        clientId: auth.clientId!,
        clientSecret: auth.clientSecret,
        clientSecretFile: auth.clientSecretFile,
        clientAuthMethod: auth.clientAuthMethod,
      });
    case 'smart-backend':
      return new SmartBackendAuth({
        ...common,
        clientId: auth.clientId!,
        privateKeyFile: auth.privateKeyFile!,
        alg: auth.alg ?? 'RS384',
        kid: auth.kid!,
      });
  }
}
