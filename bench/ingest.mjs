// Ingest benchmark: storescu → DCMTK storescp --ignore, storescp -od DIR, and our StorageScp (no-op handler).
// usage: npx tsc -p tsconfig.json [--outDir D] && node bench/ingest.mjs [--dist D] [--ct N] [--small N] [--warm-up N]
//        [--assocs 1,4] [--runs 5] [--receivers ignore,od,ours,floor]   (--small 0 skips the small set)
// floor: our SCP whose handler only makes one 4 KB write durable per instance (noop-scp.mjs --durable),
// the least any receiver that acknowledges only durable records can do on this machine; inline: the same
// on the event loop, without the two thread hand-offs.
// Prints a Markdown table: instances/s, MB/s, receiver peak RSS (VmHWM), ratio to storescp --ignore
// (the median over rounds of the per-round ratio).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const dist = resolve(arg('dist', join(here, '..', 'dist')));
const ctCount = Number(arg('ct', '500'));
const smallCount = Number(arg('small', '2000'));
const env = { ...process.env, TCP_NODELAY: '1' };
// A receiver in production is long-running, and V8 optimises code as it runs: every receiver gets
// the same warm-up (DCMTK gains nothing from it) and is measured after it.
const WARM_UP = Number(arg('warm-up', '3000'));
const work = mkdtempSync(join(tmpdir(), 'bridge-bench-'));

function makeSet(name, count, rows, cols) {
  const dir = join(work, name);
  const r = spawnSync('/usr/bin/python3', [join(here, 'make-instances.py'), dir, String(count), String(rows), String(cols)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('make-instances.py failed');
  const files = readdirSync(dir).sort().map((f) => join(dir, f));
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  return { name, dir, files, bytes };
}

function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function startReceiver(kind) {
  if (kind.startsWith('ours')) {
    const flag = { ours: [], 'ours + fdatasync': ['--durable'], 'ours + fdatasync inline': ['--durable-inline'] }[kind];
    const args = [join(here, 'noop-scp.mjs'), dist, ...flag];
    const child = spawn(process.execPath, args, { env: { ...env, DURABLE_DIR: work }, stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise((res, rej) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /PORT (\d+)/.exec(out);
        if (m) res(Number(m[1]));
      });
      child.on('exit', (c) => rej(new Error(`noop-scp exited ${c}`)));
    });
    return { child, port, aec: 'BRIDGE' };
  }
  const port = await freePort();
  const od = join(work, `out-${Date.now()}`);
  mkdirSync(od);
  const args = kind === 'storescp --ignore' ? ['--ignore'] : ['-od', od];
  const child = spawn('storescp', ['-aet', 'REF', '--max-pdu', '131072', ...args, String(port)], { env, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('echoscu', ['-aec', 'REF', '127.0.0.1', String(port)], { env });
    if (r.status === 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return { child, port, aec: 'REF', od };
}

function storescu(port, aec, files) {
  return new Promise((res, rej) => {
    const c = spawn('storescu', ['-aet', 'SCU', '-aec', aec, '127.0.0.1', String(port), ...files], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => (code === 0 ? res() : rej(new Error(`storescu exited ${code}: ${err.slice(0, 300)}`))));
  });
}

/** Sends `count` instances of the set (cycling through it), as a warm-up. */
async function warmUp(rx, set, count) {
  for (let sent = 0; sent < count; sent += set.files.length) await storescu(rx.port, rx.aec, set.files.slice(0, Math.min(set.files.length, count - sent)));
}

async function stopReceiver(rx) {
  rx.child.kill('SIGTERM');
  await new Promise((res) => rx.child.once('exit', res));
  if (rx.od) rmSync(rx.od, { recursive: true, force: true });
}

async function timedSend(rx, set, parallel) {
  const groups = Array.from({ length: parallel }, (_, i) => set.files.filter((_, j) => j % parallel === i));
  const t0 = process.hrtime.bigint();
  await Promise.all(groups.map((g) => storescu(rx.port, rx.aec, g)));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * One set and association count: every receiver started once and warmed with
 * the same instances, then --runs rounds in which each receiver takes the set
 * in turn (the order rotating). A shared machine's speed drifts; rounds
 * interleaved this way see the same drift, and each round's ratio compares
 * receivers measured seconds apart. Reported: the median round.
 */
async function scenario(set, parallel) {
  const receivers = [];
  for (const kind of kinds) {
    const rx = await startReceiver(kind);
    await warmUp(rx, set, WARM_UP);
    receivers.push({ kind, rx, seconds: [] });
  }
  for (let round = 0; round < runs; round++)
    for (let i = 0; i < receivers.length; i++) {
      const r = receivers[(i + round) % receivers.length];
      r.seconds.push(await timedSend(r.rx, set, parallel));
    }
  const ref = receivers.find((r) => r.kind === 'storescp --ignore');
  const rows = [];
  for (const r of receivers) {
    const rss = peakRssMb(r.rx.child.pid);
    await stopReceiver(r.rx);
    const seconds = median(r.seconds);
    const ratio = median(r.seconds.map((sec, i) => ref.seconds[i] / sec));
    rows.push({ kind: r.kind, set: set.name, parallel, seconds, ips: set.files.length / seconds, mbps: set.bytes / 1e6 / seconds, rss, ratio });
  }
  return rows;
}

const sets = [makeSet(`CT 512x512 x${ctCount}`, ctCount, 512, 512)];
if (smallCount > 0) sets.push(makeSet(`small 64x64 x${smallCount}`, smallCount, 64, 64));
const RECEIVERS = { ignore: 'storescp --ignore', od: 'storescp -od', ours: 'ours', floor: 'ours + fdatasync', inline: 'ours + fdatasync inline' };
// storescp --ignore is the reference of every ratio: always measured.
const kinds = [...new Set(['ignore', ...arg('receivers', 'ignore,od,ours').split(',')])].map((k) => {
  if (!RECEIVERS[k]) throw new Error(`unknown receiver ${k} (${Object.keys(RECEIVERS).join(', ')})`);
  return RECEIVERS[k];
});
const assocCounts = arg('assocs', '1,4').split(',').map(Number);
const runs = Number(arg('runs', '5'));
const rows = [];
for (const set of sets) for (const parallel of assocCounts) rows.push(...(await scenario(set, parallel)));

console.log(`\nwarm-up ${WARM_UP} instances per receiver, median of ${runs} interleaved rounds`);
console.log(`\n| set | assocs | receiver | instances/s | MB/s | peak RSS MB | ratio to storescp --ignore |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(`| ${r.set} | ${r.parallel} | ${r.kind} | ${r.ips.toFixed(0)} | ${r.mbps.toFixed(1)} | ${r.rss.toFixed(0)} | ${r.ratio.toFixed(2)} |`);
}
rmSync(work, { recursive: true, force: true });
