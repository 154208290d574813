// A StorageScp with a no-op store handler, for bench/ingest.mjs.
// usage: node bench/noop-scp.mjs DIST_DIR  → prints "PORT <n>" when listening.
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { pino } from 'pino';

const dist = resolve(process.argv[2] ?? 'dist');
const { StorageScp } = await import(pathToFileURL(join(dist, 'dimse', 'scp.js')).href);
const scp = new StorageScp({
  host: '127.0.0.1',
  port: 0,
  aeTitles: ['BRIDGE'],
  maxAssociations: 16,
  maxPduLength: Number(process.env.MAX_PDU ?? 262144), // MAX_PDU: try another announced maximum
  headerCapBytes: 16 * 1024 * 1024,
  artimTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  logger: pino({ level: 'silent' }),
  onStore: async () => undefined,
});
const { port } = await scp.listen();
process.stdout.write(`PORT ${port}\n`);
process.on('SIGTERM', () => void scp.close({ graceMs: 100 }).then(() => process.exit(0)));
