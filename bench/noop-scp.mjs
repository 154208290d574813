// A StorageScp with a no-op store handler, for bench/ingest.mjs.
// usage: node bench/noop-scp.mjs DIST_DIR [--durable | --durable-inline]  → prints "PORT <n>" when listening.
// --durable: the handler does the least a durable commit can do, and nothing else: in a worker
// thread (as the bridge's database worker), one 4 KB overwrite of a preallocated file and its
// fdatasync per instance. The SCP calls it at the header, as the bridge does. Measures the floor
// that the two thread hand-offs and the disk's flush set for any receiver that acknowledges only
// what is durable. --durable-inline: the same write and fdatasync on the event loop itself, with no
// thread hand-off (what the hand-offs cost; the bridge does not do this: a stalled disk would then
// stall every association, C-ECHO and the HTTP endpoints).
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import { pino } from 'pino';

const dist = resolve(process.argv[2] ?? 'dist');
const durable = process.argv.includes('--durable');
const inline = process.argv.includes('--durable-inline');
const { StorageScp } = await import(pathToFileURL(join(dist, 'dimse', 'scp.js')).href);

/** 256 slots of 4 KB written once and synced, then overwritten one slot per call. */
function flusher(fs, path) {
  const SLOT = 4096, SLOTS = 256;
  const fd = fs.openSync(path, 'w+');
  fs.writeSync(fd, Buffer.alloc(SLOT * SLOTS));
  fs.fsyncSync(fd);
  const block = Buffer.alloc(SLOT, 1);
  let next = 0;
  return () => {
    fs.writeSync(fd, block, 0, SLOT, (next++ % SLOTS) * SLOT);
    fs.fdatasyncSync(fd);
  };
}
const FLUSH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const flush = (${flusher.toString()})(require('node:fs'), workerData);
parentPort.on('message', (id) => {
  flush();
  parentPort.postMessage(id);
});`;
const flushPath = () => join(process.env.DURABLE_DIR ?? process.cwd(), `noop-scp-${process.pid}.flush`);

function flushingStore() {
  const worker = new Worker(FLUSH_WORKER, { eval: true, workerData: flushPath() });
  const waiting = new Map();
  let ids = 0;
  worker.on('message', (id) => {
    waiting.get(id)();
    waiting.delete(id);
  });
  return () =>
    new Promise((done) => {
      const id = ids++;
      waiting.set(id, done);
      worker.postMessage(id);
    });
}

function inlineFlushingStore() {
  const flush = flusher(fs, flushPath());
  return async () => flush();
}

const scp = new StorageScp({
  host: '127.0.0.1',
  port: Number(process.env.PORT ?? 0), // PORT: listen there (bench/support.ts) instead of any free port
  aeTitles: ['BRIDGE'],
  maxAssociations: 16,
  maxPduLength: Number(process.env.MAX_PDU ?? 262144), // MAX_PDU: try another announced maximum
  headerCapBytes: 16 * 1024 * 1024,
  artimTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  logger: pino({ level: 'silent' }),
  onStore: durable ? flushingStore() : inline ? inlineFlushingStore() : async () => undefined,
});
await scp.warmUp(); // the receive-path warm-up the bridge runs at start
const { port } = await scp.listen();
process.stdout.write(`PORT ${port}\n`);
process.on('SIGTERM', () => void scp.close({ graceMs: 100 }).then(() => process.exit(0)));
