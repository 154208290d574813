/**
 * fhir.auth.type `bearer`: a static token, from configuration (FHIR_BEARER_TOKEN)
 * or from a file (fhir.auth.tokenFile) that another process rotates. The file is
 * re-read when its modification time or size changes (one stat per request).
 */
import { readFileSync, statSync } from 'node:fs';
import { TokenError, type AuthProvider } from './auth-provider.js';

export class StaticBearerAuth implements AuthProvider {
  constructor(private readonly token: string) {}
  async authorization(): Promise<string> {
    return `Bearer ${this.token}`;
  }
  invalidate(): void {
    // Nothing to refresh: the same token is sent again (once) and a second 401 is reported.
  }
}

export class FileBearerAuth implements AuthProvider {
  private cached: { mtimeMs: number; size: number; token: string } | undefined;

  constructor(private readonly file: string) {}

  async authorization(): Promise<string> {
    let stat;
    try {
      stat = statSync(this.file);
    } catch (err) {
      throw new TokenError(`bearer token file ${this.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, undefined, { cause: err });
    }
    if (this.cached === undefined || this.cached.mtimeMs !== stat.mtimeMs || this.cached.size !== stat.size) {
      const token = readFileSync(this.file, 'utf8').trim();
      if (token === '') throw new TokenError(`bearer token file ${this.file} is empty`);
      this.cached = { mtimeMs: stat.mtimeMs, size: stat.size, token };
    }
    return `Bearer ${this.cached.token}`;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}
