import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { deserializeError, fromCloneableFields, type FromWorker, type ToWorker } from './worker-protocol.js';

export interface WorkerClientOptions {
  /** What the worker is, in log lines and errors ("the database worker"). */
  name: string;
  /** The worker's script (worker-script.ts), which calls hostObjects (worker-host.ts). */
  script: URL;
  /** Given to the worker's open function (structured-cloned; a SharedArrayBuffer is shared). */
  settings: unknown;
  /**
   * A call with a timeout is answered `stalledError()` after this long, and
   * the worker counts as stalled when no call has returned for this long while one is outstanding.
   */
  stallTimeoutMs: number;
  /** The error of a call not answered in time, and of the calls refused while stalled. */
  stalledError: () => Error;
  logger: Logger;
}

/** Told when the worker stalls (a call outstanding for stallTimeoutMs) and when a call returns again. */
export interface StallListener {
  stalled(timeoutMs: number): void;
  /** `stalledSince`: ISO time the stall that just ended began. */
  progressed(stalledSince: string): void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  /** Answered already (timed out): the worker's late answer is only progress. */
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The event loop's side of a SQLite worker thread (worker-host.ts): each
 * call is a promise answered by the worker, which runs them one at a time.
 * Nothing here blocks on the disk. While stalled (a call has been
 * outstanding for stallTimeoutMs without any answer), new calls are refused
 * at once with `stalledError()` instead of queueing behind the stuck one;
 * the first answer ends the stall.
 */
export class WorkerClient<Target extends string> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private watchdog: NodeJS.Timeout | undefined;
  /** ISO time the current stall began; undefined while not stalled. */
  private stalledSince: string | undefined;
  private dead: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly listeners: StallListener[] = [];
  private readonly name: string;
  private readonly stallTimeoutMs: number;
  private readonly stalledError: () => Error;
  private readonly logger: Logger;
  private closedSignal: (() => void) | undefined;
  /** Resolves when the worker has opened what it hosts; rejects if it could not. */
  readonly ready: Promise<void>;

  constructor(options: WorkerClientOptions) {
    this.name = options.name;
    this.stallTimeoutMs = options.stallTimeoutMs;
    this.stalledError = options.stalledError;
    this.logger = options.logger;
    this.worker = startWorker(options.script, options.settings);
    // Kept referenced only while calls are outstanding (call / answer): an idle store holds no process open.
    this.worker.unref();
    let readyResolve: () => void;
    let readyReject: (err: unknown) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => {});
    this.worker.on('message', (message: FromWorker) => {
      switch (message.kind) {
        case 'ready':
          readyResolve();
          return;
        case 'openFailed': {
          const err = deserializeError(message.error);
          readyReject(err);
          this.fail(err);
          return;
        }
        case 'log':
          this.logger[message.level](fromCloneableFields(message.fields), message.msg);
          return;
        case 'closed':
          this.closedSignal?.();
          return;
        default:
          this.answered(message);
      }
    });
    this.worker.on('error', (err) => {
      this.logger.error({ err }, `${this.name} failed`);
      readyReject(err);
      this.fail(err);
    });
    this.worker.on('exit', (code) => {
      this.closedSignal?.();
      if (this.closing === undefined) this.fail(new Error(`${this.name} exited (code ${code})`));
    });
  }

  /** Listens for stalls (e.g. the queue's storage health). */
  watch(listener: StallListener): void {
    this.listeners.push(listener);
  }

  isStalled(): boolean {
    return this.stalledSince !== undefined;
  }

  /** ISO time the current stall began (for /status); undefined while not stalled. */
  stallStart(): string | undefined {
    return this.stalledSince;
  }

  /**
   * Runs `target.method(...args)` in the worker. With `timeoutMs`, the
   * promise rejects with `stalledError()` after that long (the call may
   * still run later if it had begun: see worker-host.ts for what is not).
   */
  call<T>(target: Target, method: string, args: unknown[] = [], options: { timeoutMs?: number } = {}): Promise<T> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    if (this.closing !== undefined) return Promise.reject(new Error(`${this.name} is closed`));
    if (this.stalledSince !== undefined) return Promise.reject(this.stalledError());
    const id = this.nextId++;
    const { timeoutMs } = options;
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { resolve: resolve as (value: unknown) => void, reject, settled: false, timer: undefined };
      if (timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          entry.settled = true;
          this.markStalled();
          reject(this.stalledError());
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      if (this.pending.size === 1) {
        this.worker.ref();
        this.armWatchdog();
      }
      const message: ToWorker = { kind: 'call', id, target, method, args, ...(timeoutMs !== undefined ? { deadline: Date.now() + timeoutMs } : {}) };
      this.worker.postMessage(message);
    });
  }

  /** Closes what the worker hosts (after the calls already sent) and stops the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.dead === undefined) {
        const closed = new Promise<void>((resolve) => (this.closedSignal = resolve));
        this.worker.ref();
        this.worker.postMessage({ kind: 'close' } satisfies ToWorker);
        await closed;
      }
      clearTimeout(this.watchdog);
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private answered(message: Extract<FromWorker, { id: number }>): void {
    const entry = this.pending.get(message.id);
    this.pending.delete(message.id);
    this.progressed();
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    if (entry.settled) return;
    if (message.kind === 'result') entry.resolve(message.value);
    else if (message.kind === 'error') entry.reject(deserializeError(message.error));
    else entry.reject(this.stalledError());
  }

  /** An answer came: the stall (if any) is over; the watchdog now times the next outstanding call. */
  private progressed(): void {
    const since = this.stalledSince;
    if (since !== undefined) {
      this.stalledSince = undefined;
      for (const listener of this.listeners) listener.progressed(since);
    }
    if (this.pending.size === 0) {
      clearTimeout(this.watchdog);
      this.watchdog = undefined;
      if (this.closing === undefined) this.worker.unref();
    } else this.armWatchdog();
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.markStalled(), this.stallTimeoutMs);
    this.watchdog.unref();
  }

  private markStalled(): void {
    if (this.stalledSince !== undefined || this.dead !== undefined) return;
    this.stalledSince = new Date().toISOString();
    for (const listener of this.listeners) listener.stalled(this.stallTimeoutMs);
  }

  /** The worker is gone: every outstanding and later call fails with `err`. */
  private fail(err: Error): void {
    this.dead ??= err;
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      if (!entry.settled) entry.reject(err);
    }
    this.pending.clear();
    clearTimeout(this.watchdog);
  }
}

/**
 * The worker, with the process's command-line options where a worker takes
 * them (--cpu-prof profiles it too). Not --input-type (node -e: the worker
 * is a file), nor those Node refuses for a worker: V8 options such as
 * --max-semi-space-size or --perf-basic-prof, which apply to the whole
 * process anyway (the worker's isolate included) and made the bridge fail
 * to start.
 */
function startWorker(script: URL, workerData: unknown): Worker {
  let execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
  for (;;) {
    try {
      return new Worker(script, { workerData, execArgv });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV' || execArgv.length === 0) throw err;
      // "Initiated Worker with invalid execArgv flags: --a, --b=1": those left out, or all when none is named.
      const refused = new Set(((err as Error).message.split(': ')[1] ?? '').split(/,\s*/).map((flag) => flag.split('=')[0]));
      const kept = execArgv.filter((arg) => !refused.has(arg.split('=')[0]!));
      execArgv = kept.length < execArgv.length ? kept : [];
    }
  }
}
