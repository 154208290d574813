/**
 * One warn line per refused C-STORE (status, reason, calling AE, SOP
 * Instance and Class UID: no patient data), the same in the embedded and
 * the distributed mode, rate-limited so a broken sender cannot flood the log.
 *
 * Rule: per sender (a configured peer's AE title, or one shared `other` for
 * every unknown one, so the state stays bounded), the first
 * `linesPerWindow` (10) refusals of a window of `windowMs` (60 s) are logged
 * one by one; the rest of that window are counted by status and told in one
 * line when the window ends (or at close).
 */
import type { Logger } from 'pino';
import type { CStoreResult } from '../dimse/scp.js';

export interface RefusedStoreLogOptions {
  logger: Logger;
  /** The sender's key: its AE title when configured, else 'other'. */
  keyOf: (callingAeTitle: string) => string;
  linesPerWindow?: number;
  windowMs?: number;
  now?: () => number;
  /** Runs `fn` after `ms`; returns a cancel function. Default: an unref'd setTimeout. */
  schedule?: (fn: () => void, ms: number) => () => void;
}

interface Window {
  startedAt: number;
  logged: number;
  suppressed: Map<string, number>;
  callers: Set<string>;
  cancel?: () => void;
}

/** Success, and the warning statuses (B000, B006, B007, 0001, 0107, 0116): the instance was taken. */
export function isRefusal(status: number): boolean {
  if (status === 0x0000) return false;
  if ((status & 0xf000) === 0xb000) return false;
  return status !== 0x0001 && status !== 0x0107 && status !== 0x0116;
}

export const statusHex = (status: number): string => status.toString(16).padStart(4, '0').toUpperCase();

const MAX_CALLERS_LISTED = 10;

export class RefusedStoreLog {
  private readonly windows = new Map<string, Window>();
  private readonly linesPerWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void, ms: number) => () => void;

  constructor(private readonly options: RefusedStoreLogOptions) {
    this.linesPerWindow = options.linesPerWindow ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.schedule =
      options.schedule ??
      ((fn, ms) => {
        const timer = setTimeout(fn, ms);
        timer.unref();
        return () => clearTimeout(timer);
      });
  }

  /** Takes every C-STORE result; logs the refused ones within the rate limit. */
  record(result: CStoreResult): void {
    if (!isRefusal(result.status)) return;
    const key = this.options.keyOf(result.callingAeTitle);
    const now = this.now();
    let window = this.windows.get(key);
    if (window && now - window.startedAt >= this.windowMs) {
      this.flush(key);
      window = undefined;
    }
    if (!window) {
      window = { startedAt: now, logged: 0, suppressed: new Map(), callers: new Set() };
      this.windows.set(key, window);
    }
    const status = statusHex(result.status);
    if (window.logged < this.linesPerWindow) {
      window.logged += 1;
      this.options.logger.warn(
        {
          status,
          reason: result.errorComment ?? null,
          callingAeTitle: result.callingAeTitle,
          sopInstanceUid: result.sopInstanceUid ?? null,
          sopClassUid: result.sopClassUid,
        },
        'C-STORE refused',
      );
      return;
    }
    window.suppressed.set(status, (window.suppressed.get(status) ?? 0) + 1);
    if (window.callers.size < MAX_CALLERS_LISTED) window.callers.add(result.callingAeTitle);
    window.cancel ??= this.schedule(() => this.flush(key), window.startedAt + this.windowMs - now);
  }

  /** Tells what was not logged one by one, and forgets the timers. */
  close(): void {
    for (const key of [...this.windows.keys()]) this.flush(key);
  }

  private flush(key: string): void {
    const window = this.windows.get(key);
    if (!window) return;
    this.windows.delete(key);
    window.cancel?.();
    const suppressed = [...window.suppressed.values()].reduce((n, c) => n + c, 0);
    if (suppressed === 0) return;
    this.options.logger.warn(
      {
        sender: key,
        callingAeTitles: [...window.callers],
        suppressed,
        byStatus: Object.fromEntries(window.suppressed),
        windowMs: this.windowMs,
      },
      'more C-STOREs refused (rate limit: not logged one by one)',
    );
  }
}
