/**
 * Helpers of the whole-system benchmark (bench/system.bench.ts): receivers to
 * compare (the bridge process in embedded and Redis mode, DCMTK storescp,
 * Orthanc), a parallel storescu sender, statistics and Markdown tables.
 * Reports only: nothing here asserts on a timing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { startBridgeProcess, type BridgeProcess } from '../test/support/bridge-process.js';
import { freePort } from '../test/support/free-port.js';
import { startProcess, type StartedProcess } from '../test/support/processes.js';
import { startRedis, type TestRedis } from '../test/support/redis-server.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const DCMTK_ENV = { ...process.env, TCP_NODELAY: '1' };

/** Receive PDU size for DCMTK and Orthanc: DCMTK's maximum (the bridge announces its default, 262144). */
export const REFERENCE_MAX_PDU = 131072;

export type ReceiverKind = 'bridge embedded' | 'bridge Redis' | 'storescp --ignore' | 'storescp -od' | 'Orthanc' | 'durable floor';

/** bench/noop-scp.mjs: our SCP alone; with --durable, its handler only makes a 4 KB write durable in a worker thread. */
const NOOP_SCP = join(import.meta.dirname, 'noop-scp.mjs');
const DIST = join(import.meta.dirname, '..', 'dist');

export interface Receiver {
  kind: ReceiverKind;
  port: number;
  aec: string;
  pid: number;
  bridge?: BridgeProcess;
  /** Other processes doing the receiver's work (redis-server in Redis mode), for CPU accounting. */
  helperPids: number[];
  /** Instances the receiver says it has accepted (undefined: it cannot tell, e.g. storescp --ignore). */
  acceptedCount(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface ReceiverOptions {
  /** Extra environment of the bridge process (e.g. FHIR_BASE_URL, PUBLISH_DEBOUNCE_MS). */
  bridgeEnv?: Record<string, string>;
  /** Node options of the bridge process (e.g. --cpu-prof). */
  bridgeNodeArgs?: string[];
}

export function orthancInstalled(): boolean {
  return existsSync('/usr/sbin/Orthanc');
}

/** VmHWM (peak resident set) of a process, MB. */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds a process has used so far (/proc/PID/stat utime + stime). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ = 100 on Linux
  } catch {
    return Number.NaN;
  }
}

async function bridgeSuccesses(bridge: BridgeProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${bridge.httpPort}/metrics`);
  const text = await res.text();
  let n = 0;
  for (const m of text.matchAll(/^dfb_cstore_responses_total\{status="(0+|0x0+)"\} (\d+)/gm)) n += Number(m[2]);
  return n;
}

async function waitEcho(port: number, aec: string, proc: StartedProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.child.exitCode !== null) throw new Error(`receiver exited:\n${proc.output()}`);
    const r = spawnSync('echoscu', ['-aet', 'SCU', '-aec', aec, '127.0.0.1', String(port)], { env: DCMTK_ENV });
    if (r.status === 0) return;
    await sleep(50);
  }
  throw new Error(`no C-ECHO answer on ${port}:\n${proc.output()}`);
}

/** A receiver that is one started process (DCMTK, Orthanc, the durable floor): stopped by PID, then its directory removed. */
function processReceiver(
  kind: ReceiverKind,
  port: number,
  aec: string,
  proc: StartedProcess,
  dir: string,
  stopMs: number,
  acceptedCount: () => Promise<number | undefined>,
): Receiver {
  return {
    kind,
    port,
    aec,
    pid: proc.pid,
    helperPids: [],
    acceptedCount,
    async stop() {
      await proc.stop('SIGTERM', stopMs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startReceiver(kind: ReceiverKind, options: ReceiverOptions = {}): Promise<Receiver> {
  if (kind === 'bridge embedded' || kind === 'bridge Redis') {
    let redis: TestRedis | undefined;
    // appendfsync always (the durable setting) unless BENCH_REDIS_APPENDFSYNC says otherwise (everysec, no).
    const appendfsync = (process.env.BENCH_REDIS_APPENDFSYNC ?? 'always') as 'always' | 'everysec' | 'no';
    if (kind === 'bridge Redis') redis = await startRedis({ appendfsync });
    const bridge = await startBridgeProcess({
      env: { ...(redis ? { REDIS_URL: redis.url } : {}), ...options.bridgeEnv },
      ...(options.bridgeNodeArgs ? { nodeArgs: options.bridgeNodeArgs } : {}),
      readyTimeoutMs: 60_000,
    });
    return {
      kind,
      port: bridge.dicomPort,
      aec: bridge.aeTitle,
      pid: bridge.child.pid ?? -1,
      bridge,
      helperPids: redis ? [redis.pid] : [],
      acceptedCount: () => bridgeSuccesses(bridge),
      async stop() {
        await bridge.stop(30_000);
        bridge.cleanup();
        await redis?.stop();
      },
    };
  }
  if (kind === 'Orthanc') {
    const dir = mkdtempSync(join(tmpdir(), 'dfb-orthanc-'));
    const port = await freePort();
    const httpPort = await freePort();
    const config = {
      Name: 'bench',
      StorageDirectory: join(dir, 'storage'),
      IndexDirectory: join(dir, 'index'),
      DicomAet: 'ORTHANC',
      DicomPort: port,
      HttpPort: httpPort,
      DicomCheckCalledAet: false,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      MaximumPduLength: REFERENCE_MAX_PDU,
      Plugins: [],
    };
    writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config));
    const proc = await startProcess('/usr/sbin/Orthanc', [join(dir, 'orthanc.json')], {
      readyUrl: `http://127.0.0.1:${httpPort}/system`,
      readyTimeoutMs: 30_000,
    });
    await waitEcho(port, 'ORTHANC', proc);
    return processReceiver(kind, port, 'ORTHANC', proc, dir, 20_000, async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/statistics`);
      return ((await res.json()) as { CountInstances: number }).CountInstances;
    });
  }
  if (kind === 'durable floor') {
    // The least a receiver that acknowledges only durable records does per instance: the bound of the bridge's own figure.
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'dfb-floor-'));
    const proc = await startProcess(process.execPath, [NOOP_SCP, DIST, '--durable'], { env: { PORT: String(port), DURABLE_DIR: dir } });
    await waitEcho(port, 'BRIDGE', proc);
    return processReceiver(kind, port, 'BRIDGE', proc, dir, 10_000, async () => undefined);
  }
  const port = await freePort();
  const od = mkdtempSync(join(tmpdir(), 'dfb-storescp-'));
  const args = kind === 'storescp --ignore' ? ['--ignore'] : ['-od', od];
  const proc = await startProcess('storescp', ['-aet', 'REF', '--max-pdu', String(REFERENCE_MAX_PDU), ...args, String(port)]);
  await waitEcho(port, 'REF', proc);
  return processReceiver(kind, port, 'REF', proc, od, 10_000, async () => (kind === 'storescp -od' ? readdirSync(od).length : undefined));
}

/** storescu over one association; rejects on a non-zero exit. */
export function storescu(port: number, aec: string, files: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('storescu', ['-aet', 'SCU', '-aec', aec, '127.0.0.1', String(port), ...files], {
      env: DCMTK_ENV,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`storescu exited ${code}: ${err.slice(0, 500)}`))));
  });
}

/** Sends `files` over `associations` parallel storescu processes (round robin); seconds from spawn to the last exit. */
export async function sendParallel(rx: Receiver, files: readonly string[], associations: number): Promise<number> {
  const groups = Array.from({ length: associations }, (_, i) => files.filter((_, j) => j % associations === i));
  const t0 = process.hrtime.bigint();
  await Promise.all(groups.map((g) => storescu(rx.port, rx.aec, g)));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function median(values: readonly number[]): number {
  const s = [...values].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const line = (cells: ReadonlyArray<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (v: number, digits = 0): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'n/a';
}

export function machineInfo(): string {
  const [l1, l5, l15] = loadavg();
  const rows: [string, string][] = [
    ['nproc', String(cpus().length)],
    ['CPU', cpus()[0]?.model ?? 'n/a'],
    ['load average at start (1/5/15 min)', `${fmt(l1!, 2)} / ${fmt(l5!, 2)} / ${fmt(l15!, 2)}`],
    ['node', process.version],
    ['DCMTK', firstLine('storescp', ['--version']).replace(/^\$dcmtk: /, '').replace(/ \$$/, '')],
    ['Orthanc', orthancInstalled() ? firstLine('/usr/sbin/Orthanc', ['--version']) : 'not installed'],
    ['Redis', firstLine('redis-server', ['--version']).replace(/ sha=.*/, '')],
  ];
  return table(['machine', ''], rows);
}

export function loadNow(): string {
  return loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');
}

/** Total size of files, bytes. */
export function totalBytes(files: readonly string[]): number {
  return files.reduce((n, f) => n + statSync(f).size, 0);
}
