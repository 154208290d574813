import type { Logger } from 'pino';

/**
 * One line per interval and key: a storage failure that repeats (every
 * C-STORE refused while the disk is full) is logged once, then once more
 * per interval with the count of the lines held back (`suppressed`).
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  error(key: string, fields: Record<string, unknown>, msg: string): void {
    this.write('error', key, fields, msg);
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.write('warn', key, fields, msg);
  }

  info(key: string, fields: Record<string, unknown>, msg: string): void {
    this.write('info', key, fields, msg);
  }

  private write(level: 'error' | 'warn' | 'info', key: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger[level]({ ...fields, ...(entry && entry.suppressed > 0 ? { suppressed: entry.suppressed } : {}) }, msg);
  }
}
