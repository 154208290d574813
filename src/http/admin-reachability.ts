import { maskUrlCredentials } from '../config/mask.js';
import { errorMessage } from '../errors.js';
import type { Reachability } from './admin-api.js';

/**
 * A reachability check run at most once per `ttlMs` (the console polls every
 * few seconds; the FHIR server should not see a request for each poll).
 */
export function cachedProbe(what: string, probe: () => Promise<void>, ttlMs = 15_000, now: () => number = Date.now): () => Promise<Reachability> {
  let last: { at: number; result: Promise<Reachability> } | undefined;
  return () => {
    if (last === undefined || now() - last.at >= ttlMs) {
      const result = probe().then(
        (): Reachability => ({ ok: true, detail: what }),
        (err: unknown): Reachability => ({ ok: false, detail: `${what}: ${maskUrlCredentials(errorMessage(err))}` }),
      );
      last = { at: now(), result };
    }
    return last.result;
  };
}
