/**
 * Pure helpers of the study merge: change detection by canonical JSON and the
 * "latest received wins" rule. No I/O; shared by the SQLite and Redis stores.
 */

/**
 * JSON with object keys sorted, so two equal values give the same string
 * whatever the order their keys were set in. `undefined` members are left out,
 * as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = sortKeys(member);
    }
    return out;
  }
  return value;
}

/**
 * Whether attributes received at `incoming` replace those received at
 * `stored` (ISO 8601 UTC timestamps, comparable as strings). Ties go to the
 * record merged later, which is the one queued later.
 */
export function isLatest(incoming: string, stored: string | undefined): boolean {
  return stored === undefined || incoming >= stored;
}

/** Default publish retry delay: 1 s · 2^(attempt-1), capped at 5 min, ±20 % jitter. */
export function defaultRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.max(0, attempt - 1), 300_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}
