/**
 * The deadline of one DIMSE message (command and data set) being received:
 * it must be complete within `floorMs` plus its bytes at `minRate` bytes per
 * second. The deadline moves with the bytes received, so a large instance
 * sent at any sane rate is never cut, while a peer trickling a byte now and
 * then (which the idle timer alone would let through for ever) is aborted
 * once it falls behind the minimum rate.
 *
 * Cheap on the receive path: start() refreshes one timer per association
 * (no allocation), received() adds to a counter, and the rate is only
 * computed when the timer fires, at most a few times per message.
 */
export interface MessageDeadlineExpiry {
  bytes: number;
  elapsedMs: number;
}

export class MessageDeadline {
  private timer: NodeJS.Timeout | undefined;
  /** The delay `timer` was armed with: refresh() re-arms with it. */
  private timerDelayMs = 0;
  private running = false;
  private startedAt = 0;
  private bytes = 0;

  constructor(
    private readonly floorMs: number,
    /** Bytes per second. */
    private readonly minRate: number,
    private readonly onExpired: (expiry: MessageDeadlineExpiry) => void,
  ) {
    if (!(floorMs > 0) || !(minRate > 0)) throw new RangeError('message deadline floor and minimum rate must be positive');
  }

  get inProgress(): boolean {
    return this.running;
  }

  /** The first bytes of a message arrived. */
  start(): void {
    this.running = true;
    this.startedAt = Date.now();
    this.bytes = 0;
    if (this.timer !== undefined && this.timerDelayMs === this.floorMs) this.timer.refresh();
    else this.arm(this.floorMs);
  }

  received(bytes: number): void {
    this.bytes += bytes;
  }

  /** The message is complete (or dropped). A timer still armed finds nothing running and stays quiet. */
  stop(): void {
    this.running = false;
  }

  /** The association ended. */
  dispose(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    if (!this.running) return;
    const now = Date.now();
    const due = this.startedAt + this.floorMs + (this.bytes * 1000) / this.minRate;
    if (now >= due) {
      this.running = false;
      this.onExpired({ bytes: this.bytes, elapsedMs: now - this.startedAt });
      return;
    }
    // Past the floor, but the bytes so far buy more time: look again when that runs out.
    this.arm(Math.ceil(due - now));
  }

  private arm(delayMs: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), delayMs);
    this.timer.unref();
    this.timerDelayMs = delayMs;
  }
}
