const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { sleep };

/** Polls `condition` every 25 ms until it holds; throws after `timeoutMs` (a generous bound, not an assertion on speed). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await sleep(25);
  }
}
