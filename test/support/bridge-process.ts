import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface BridgeProcess {
  dicomPort: number;
  httpPort: number;
  dataDir: string;
  aeTitle: string;
  child: ChildProcess;
  /** Everything the process wrote (JSON log lines). */
  output(): string;
  /** GET an HTTP endpoint of the bridge, parsed JSON and status. */
  get(path: string): Promise<{ status: number; body: any }>;
  /** SIGTERM (graceful), resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  kill9(): Promise<void>;
  /** Remove the data directory (after stop). */
  cleanup(): void;
}

export interface BridgeProcessOptions {
  env?: Record<string, string>;
  /** Reuse a data directory (restart after a crash). */
  dataDir?: string;
  dicomPort?: number;
  httpPort?: number;
  readyTimeoutMs?: number;
  /** Extra arguments after `start`, e.g. ['--role', 'worker']. */
  args?: string[];
  /** Node options before the script, e.g. ['--cpu-prof'] (which Node 20 refuses in NODE_OPTIONS). */
  nodeArgs?: string[];
}

async function waitReady(httpPort: number, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`bridge exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`bridge not ready after ${timeoutMs} ms:\n${output()}`);
}

/** Starts `node dist/cli.js start` on free loopback ports and waits for /readyz. */
export async function startBridgeProcess(options: BridgeProcessOptions = {}): Promise<BridgeProcess> {
  const dicomPort = options.dicomPort ?? (await freePort());
  const httpPort = options.httpPort ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'bridge-data-'));
  const aeTitle = options.env?.DICOM_AET ?? 'FHIRBRIDGE';
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'start', ...(options.args ?? [])], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DICOM_HOST: '127.0.0.1',
      DICOM_PORT: String(dicomPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      TIMEZONE: 'Europe/Paris',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((res) =>
    child.on('exit', (code) => {
      running.delete(child);
      res(code);
    }),
  );
  const output = () => out;
  await waitReady(httpPort, child, options.readyTimeoutMs ?? 20_000, output);
  return {
    dicomPort,
    httpPort,
    dataDir,
    aeTitle,
    child,
    output,
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
