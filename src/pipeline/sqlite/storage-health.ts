import type { Logger } from 'pino';
import type { StorageCondition } from '../pipeline.js';
import { defaultRetryDelayMs } from '../retry-delay.js';
import { ThrottledLog } from './throttled-log.js';

/**
 * SQLite result codes that say the disk under DATA_DIR refuses a write
 * (full, write permission lost, I/O error), not that the statement is wrong.
 */
export function isStorageFault(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (/^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PERM)/.test(code) || code === STORAGE_STALLED);
}

/** Code of StorageStalledError. */
export const STORAGE_STALLED = 'STORAGE_STALLED';

/**
 * A database call did not return within STORAGE_COMMIT_TIMEOUT_MS (the disk
 * under DATA_DIR does not answer), or was refused at once because one such
 * call is still outstanding. The message is short: the SCP puts it in the
 * C-STORE-RSP's Error Comment (64 characters). `file`: another database of
 * DATA_DIR than bridge.sqlite (fhir-index.sqlite), named in the message.
 */
export class StorageStalledError extends Error {
  readonly code = STORAGE_STALLED;
  constructor(timeoutMs: number, file?: string) {
    super(file === undefined ? `storage stalled: no commit within ${timeoutMs} ms` : `storage stalled: ${file} did not answer within ${timeoutMs} ms`);
    this.name = 'StorageStalledError';
  }
}

export function isStorageStalled(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === STORAGE_STALLED;
}

export interface StorageHealthOptions {
  logger: Logger;
  /** A write that must reach the disk (the header's user_version): run, with backoff, while writes fail. */
  probe: () => Promise<void>;
  /** Delay before probe `attempt`. Default: the publish retry policy (1 s doubling, at most 5 min, ±20 %). */
  probeDelayMs?: (attempt: number) => number;
  /** One log line per kind of failure and interval. Default 60 s. */
  logIntervalMs?: number;
  /**
   * Failing is reported until writes have worked this long after the last
   * fault. Default 5 s: on a nearly full disk some writes fit (into pages
   * the files already have) and others do not, and a state that flipped
   * with each would tell an operator nothing.
   */
  settleMs?: number;
  /** Clock (ms since the epoch). Default Date.now. */
  now?: () => number;
}

/**
 * Whether the embedded store's writes work. A storage fault marks it
 * failing (readiness 503, /status); a write that succeeds, whoever makes
 * it, once no fault has been seen for `settleMs`, marks it ok again, and
 * while it fails a probe write is tried
 * with the capped exponential backoff, so the bridge recovers by itself when
 * space (or write permission) returns even if nothing else writes.
 */
export class StorageHealth {
  private failing: { since: string; reason: string } | undefined;
  private lastFaultAt = 0;
  private stall: { since: string; reason: string } | undefined;
  private probeAttempt = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly probeDelayMs: (attempt: number) => number;
  readonly log: ThrottledLog;

  constructor(private readonly options: StorageHealthOptions) {
    this.probeDelayMs = options.probeDelayMs ?? defaultRetryDelayMs;
    this.log = new ThrottledLog(options.logger, options.logIntervalMs ?? 60_000);
  }

  condition(): StorageCondition {
    if (this.stall !== undefined) return { state: 'stalled', ...this.stall };
    return this.failing === undefined ? { state: 'ok' } : { state: 'failing', ...this.failing };
  }

  /** A database call has been outstanding for `timeoutMs` (worker-client.ts): stalled until one returns. */
  stalled(timeoutMs: number): void {
    if (this.stall !== undefined) return;
    this.stall = {
      since: new Date().toISOString(),
      reason: `no database call returned within ${timeoutMs} ms (STORAGE_COMMIT_TIMEOUT_MS): the disk under DATA_DIR does not answer`,
    };
    this.options.logger.error(
      { timeoutMs },
      'storage stalled: a database call has not returned; C-STOREs are refused (A700H), /readyz answers 503 until it returns',
    );
  }

  /** A database call returned (whatever its outcome): the disk answers again. */
  progressed(): void {
    if (this.stall === undefined) return;
    this.options.logger.info({ stalledSince: this.stall.since }, 'storage answers again after a stall');
    this.stall = undefined;
  }

  /** Records a failed storage call; true if it was a storage fault (then it is logged here, throttled per `what`). */
  failed(err: unknown, what: string, fields: Record<string, unknown> = {}): boolean {
    if (!isStorageFault(err)) return false;
    const e = err as { code: string; message?: string };
    // Stalled (not failing): the stall is reported by stalled(); no probe, the outstanding call is the probe.
    if (isStorageStalled(err)) {
      this.log.warn(what, { ...fields, code: e.code }, what);
      return true;
    }
    this.lastFaultAt = this.now();
    if (this.failing === undefined) {
      this.failing = { since: new Date().toISOString(), reason: `${e.code}: ${e.message ?? ''}`.trim() };
      // Throttled too: on a nearly full disk some writes fit and some do not, and the state flaps.
      this.log.error('storage writes fail', { code: e.code, err }, 'storage writes fail: C-STOREs are refused (A700H), publishes wait, /readyz answers 503 until a write succeeds');
      this.scheduleProbe();
    }
    this.log.error(what, { ...fields, code: e.code, err }, what);
    return true;
  }

  /** Records a write that reached the disk; false while the last fault is more recent than settleMs (still failing). */
  succeeded(): boolean {
    if (this.failing === undefined) return true;
    const unsettledMs = this.lastFaultAt + (this.options.settleMs ?? 5_000) - this.now();
    if (unsettledMs > 0) {
      // A probe once the faults have settled clears it (sooner than the backoff, which is for failures).
      clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
      this.scheduleProbe(unsettledMs);
      return false;
    }
    this.log.info('storage writes work again', { failingSince: this.failing.since }, 'storage writes work again');
    this.failing = undefined;
    this.probeAttempt = 0;
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    return true;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.probeTimer);
  }

  /** The next probe: after the backoff of its attempt, or after `delayMs` (not counted as an attempt). */
  private scheduleProbe(delayMs?: number): void {
    if (this.closed || this.probeTimer !== undefined) return;
    if (delayMs === undefined) this.probeAttempt++;
    this.probeTimer = setTimeout(() => {
      if (this.closed || this.failing === undefined) {
        this.probeTimer = undefined;
        return;
      }
      this.options.probe().then(
        () => {
          this.probeTimer = undefined;
          this.succeeded();
        },
        (err: unknown) => {
          this.probeTimer = undefined;
          if (!isStorageFault(err)) this.options.logger.error({ err }, 'storage probe failed');
          this.scheduleProbe();
        },
      );
    }, delayMs ?? this.probeDelayMs(this.probeAttempt));
    this.probeTimer.unref();
  }
}
