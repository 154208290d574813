/** Backoff of FHIR retries (fhir.retry): exponential from baseDelayMs, capped at maxDelayMs, ±20 % jitter. */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 300_000 };

/** Delay before retry `attempt` (1, 2, ...): base·2^(attempt-1), capped, then jittered within ±20 % (never above the cap). */
export function backoffDelayMs(attempt: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY, random: () => number = Math.random): number {
  const exp = Math.min(policy.baseDelayMs * 2 ** Math.min(Math.max(0, attempt - 1), 40), policy.maxDelayMs);
  return Math.max(0, Math.min(policy.maxDelayMs, Math.round(exp * (0.8 + 0.4 * random()))));
}
