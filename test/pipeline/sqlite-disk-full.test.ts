/**
 * Issue 21 item 7: DATA_DIR full (its own loop-mounted ext4, filled to the
 * last block). A publish whose end cannot be recorded was restarted at once,
 * in a loop, logging each time; now it waits the publish retry policy, the
 * failure is logged once per interval, the store reports itself failing
 * (readiness), C-STOREs are refused, and it all recovers by itself (a probe
 * write with backoff) once space returns.
 */
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteParts, type SqliteParts } from '../../src/pipeline/sqlite/index.js';
import { mountLoopDisk, type LoopDisk } from '../support/loop-disk.js';
import { makeRecord } from './helpers.js';

let disk: LoopDisk | undefined;
let parts: SqliteParts | undefined;
afterEach(async () => {
  try {
    await disk?.unfill();
    await parts?.close();
  } finally {
    await disk?.dispose();
    disk = undefined;
    parts = undefined;
  }
});

/** A pino logger whose lines land in an array. */
function capturingLogger(): { logger: pino.Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('DATA_DIR full', () => {
  it('backs off a publish whose end cannot be recorded, logs once, reports failing, refuses intake, recovers by itself', async () => {
    disk = await mountLoopDisk(16);
    const { logger, lines } = capturingLogger();
    let probes = 0;
    parts = openSqliteParts({
      dataDir: path.join(disk.mountPoint, 'data'),
      logger,
      queue: {
        storageProbeDelayMs: () => {
          probes++;
          return 50;
        },
      },
    });
    const { queue } = parts;
    await queue.addInstance(makeRecord({ sop: '1.9.1' }));
    expect(queue.storageCondition()).toEqual({ state: 'ok' });

    // Scheduled while there was space (the aggregator does it); the publisher starts on a full disk.
    await queue.schedulePublish('1.2.3', { debounceMs: 0, maxDelayMs: 0 });
    await disk.fill();
    // The retry policy: a short first delay, then an hour; the policy is what spaces the attempts.
    const retries: number[] = [];
    const retryDelayMs = (attempt: number): number => {
      retries.push(attempt);
      return attempt <= 2 ? 50 : 3_000;
    };
    let calls = 0;
    queue.processPublishes(
      async () => {
        calls++;
        throw new Error('FHIR server unreachable');
      },
      { retryDelayMs },
    );
    await until('the third attempt', () => calls === 3);
    const condition = queue.storageCondition();
    expect(condition.state).toBe('failing');
    expect(condition.reason).toMatch(/^SQLITE_FULL/);
    // No hot loop: attempt n waits policy(n), whether its end was recorded or held in memory.
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBe(3);
    expect(Math.max(...retries)).toBe(3);
    const recordLines = lines.filter((l) => l.msg === 'could not record the end of a publish');
    expect(recordLines).toHaveLength(1);
    expect(recordLines[0]).toMatchObject({ level: 50, code: 'SQLITE_FULL', studyInstanceUid: '1.2.3', attempts: 1 });
    // Intake is refused with the error (A700 at the SCP), logged once per interval too.
    for (let i = 0; i < 5; i++) await expect(queue.addInstance(makeRecord({ sop: `1.9.2.${i}` }))).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(lines.filter((l) => l.msg === 'could not commit instance records')).toHaveLength(1);
    expect(probes).toBeGreaterThan(0);

    await disk.unfill();
    await until('writes work again', () => queue.storageCondition().state === 'ok');
    expect(lines.some((l) => l.msg === 'storage writes work again')).toBe(true);
    // The held publish is released at once, not an hour later; the store takes records again.
    await until('the publish retried after its backoff', () => calls >= 4);
    await queue.addInstance(makeRecord({ sop: '1.9.3' }));
    expect((await queue.depth()).instances).toBe(2);
    expect((await queue.publishRow('1.2.3'))?.attempts).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
