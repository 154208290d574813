/**
 * Child processes for tests (the bridge, DCMTK tools, redis-server). Every
 * process started here is tracked and SIGKILLed when the test process exits,
 * so nothing outlives a test run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { run, type RunResult } from './run.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartedProcess {
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<ProcessExit>;
  /** Sends `signal`, waits up to `timeoutMs` for exit, then SIGKILLs. Resolves with how it ended. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit & { killedAfterTimeout: boolean }>;
  /** SIGKILL (a crash: no clean shutdown) and wait for the exit. */
  kill9(): Promise<void>;
  /** stdout and stderr so far, interleaved as received. */
  output(): string;
  /** Waits until the output matches `pattern` (or throws after timeoutMs / when the process exits first). */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  /** Added to process.env (plus TCP_NODELAY=1). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Poll this URL until it answers 200; startProcess rejects if the process exits first or time runs out. */
  readyUrl?: string;
  readyTimeoutMs?: number;
  /** Also append stdout/stderr to this file. */
  logFile?: string;
}

const tracked = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  tracked.add(child);
  child.once('exit', () => tracked.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killAllTracked);
  }
}

/** SIGKILLs every tracked process that is still running (synchronous: safe in an 'exit' handler). */
export function killAllTracked(): void {
  for (const child of tracked) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  tracked.clear();
}

/** PIDs of tracked processes still running. */
export function trackedPids(): number[] {
  return [...tracked].filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid ?? -1);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_OUTPUT = 16 * 1024 * 1024;

export async function startProcess(
  command: string,
  args: readonly string[],
  options: StartProcessOptions = {},
): Promise<StartedProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, TCP_NODELAY: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);

  let log: WriteStream | undefined;
  if (options.logFile) log = createWriteStream(options.logFile, { flags: 'a' });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    if (out.length < MAX_OUTPUT) out += d.toString('utf8');
    log?.write(d);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  let done = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      log?.end();
      resolve({ code, signal });
      for (const l of listeners) l();
    });
  });
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (spawnError) throw new Error(`cannot start ${command}: ${spawnError.message}`);

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) => {
    if (!done) child.kill(signal);
    let killedAfterTimeout = false;
    const timer = setTimeout(() => {
      if (!done) {
        killedAfterTimeout = true;
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    return { ...result, killedAfterTimeout };
  };

  const proc: StartedProcess = {
    pid: child.pid ?? -1,
    child,
    exited,
    stop,
    async kill9() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
    output: () => out,
    waitForOutput(pattern, timeoutMs = 30_000) {
      const matches = () => (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out));
      return new Promise<void>((resolve, reject) => {
        const finish = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (matches()) finish();
          else if (done) finish(new Error(`${command} exited before printing ${String(pattern)}:\n${out}`));
        };
        const timer = setTimeout(
          () => finish(new Error(`${command} did not print ${String(pattern)} within ${timeoutMs} ms:\n${out}`)),
          timeoutMs,
        );
        listeners.add(check);
        check();
      });
    },
  };

  if (options.readyUrl) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    let last = 'no answer';
    for (;;) {
      if (done) {
        const e = await exited;
        throw new Error(`${command} exited (${e.code ?? e.signal}) before ${options.readyUrl} was ready:\n${out}`);
      }
      try {
        const res = await fetch(options.readyUrl, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) break;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        await proc.kill9();
        throw new Error(`${options.readyUrl} not ready within ${options.readyTimeoutMs ?? 30_000} ms (${last}):\n${out}`);
      }
      await sleep(100);
    }
  }
  return proc;
}

export interface StorescuOptions {
  port: number;
  host?: string;
  /** Calling AE title (default SCU). */
  aet?: string;
  /** Called AE title (default BRIDGE). */
  aec?: string;
  extraArgs?: string[];
  timeoutMs?: number;
}

/**
 * DCMTK storescu over one association: a directory is sent recursively
 * (`+sd +r`), or a list of files. TCP_NODELAY=1 is set (see run.ts).
 */
export async function storescu(filesOrDir: string | readonly string[], options: StorescuOptions): Promise<RunResult> {
  const args = ['-aet', options.aet ?? 'SCU', '-aec', options.aec ?? 'BRIDGE', ...(options.extraArgs ?? [])];
  const targets: string[] = [];
  if (typeof filesOrDir === 'string') {
    if ((await stat(filesOrDir)).isDirectory()) args.push('+sd', '+r');
    targets.push(filesOrDir);
  } else targets.push(...filesOrDir);
  args.push(options.host ?? '127.0.0.1', String(options.port), ...targets);
  return run('storescu', args, { timeoutMs: options.timeoutMs ?? 300_000 });
}
