/** Keys whose values are secrets: shown as "***" by check-config and never logged. */
export const SECRET_KEY = /(secret|password|token|privateKey|apiKey)$/i;

/** `https://user:pw@host/` → `https://***@host/`. */
export function maskUrlCredentials(value: string): string {
  return value.replace(/^(\w+:\/\/)([^@/]+)@/, (_m, scheme: string) => `${scheme}***@`);
}

/** A copy of the configuration with secrets replaced by "***". */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key) && value !== undefined && value !== null) return '***';
  // Extra HTTP headers often carry credentials (Authorization, API keys): show names only.
  if (key === 'headers' && value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).map((name) => [name, '***']));
  }
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  }
  return value;
}
