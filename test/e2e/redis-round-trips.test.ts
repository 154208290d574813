/**
 * Redis mode: how many commands the bridge sends per acknowledged C-STORE,
 * counted on a real redis-server (appendfsync always) with MONITOR (every
 * command a client sends; the commands a Lua script runs are marked `lua`
 * and are not round trips) and INFO commandstats. A count, not a timing, so a
 * regression (a second command per instance) fails here without a benchmark.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { run } from '../support/run.js';

const INSTANCES = 120;

interface Counted {
  /** Commands sent by clients (not by scripts), by command name. */
  byCommand: Map<string, number>;
  total: number;
  /** EVALSHA/EVAL calls of the enqueue script (first key: the instances stream). */
  enqueues: number;
  /** Records appended to the stream (XADD run by the script). */
  appended: number;
}

/** Runs `send` while MONITOR records every client command; the counts of what was sent meanwhile. */
async function countCommands(url: string, send: () => Promise<void>, ignoredAddress?: string): Promise<Counted> {
  const admin = new Redis(url);
  const monitor = await admin.monitor();
  const byCommand = new Map<string, number>();
  let total = 0;
  let enqueues = 0;
  let appended = 0;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = String(args[0]).toLowerCase();
    if (source === 'lua' && name === 'xadd' && String(args[1]).endsWith(':{instance-stream}:records')) appended += 1;
    if (source === 'lua' || source === ignoredAddress) return;
    byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
    total += 1;
    if ((name === 'evalsha' || name === 'eval') && String(args[3]).endsWith(':{instance-stream}:records')) enqueues += 1;
  });
  try {
    await send();
    // MONITOR lines trail the replies a little.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    monitor.disconnect();
    admin.disconnect();
  }
  return { byCommand, total, enqueues, appended };
}

async function commandCalls(client: Redis, command: string): Promise<number> {
  const info = await client.info('commandstats');
  const m = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

/** The client's own address as MONITOR names it (its commands are the test's, not the bridge's). */
async function addressOf(client: Redis): Promise<string> {
  const info = String(await client.call('CLIENT', 'INFO'));
  return /\baddr=(\S+)/.exec(info)![1]!;
}

function storescu(port: number, files: string[]) {
  return run('storescu', ['-aet', 'MODALITY', '-aec', 'FHIRBRIDGE', '127.0.0.1', String(port), ...files], { timeoutMs: 120_000 });
}

describe('Redis mode: round trips per acknowledged C-STORE', () => {
  let redis: TestRedis;
  let client: Redis;
  let study: GeneratedStudy;
  const bridges: BridgeProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    study = await generateStudy({ instances: INSTANCES, size: 'small' });
  });

  afterAll(async () => {
    for (const b of bridges) {
      await b.stop();
      b.cleanup();
    }
    client?.disconnect();
    await redis?.stop();
    if (study) await removeStudy(study.dir);
  });

  it('the receiver sends one command per instance: one script call that checks the rejections and queues', async () => {
    const bridge = await startBridgeProcess({ env: { REDIS_URL: redis.url, REDIS_PREFIX: 'rt1' }, args: ['--role', 'scp'] });
    bridges.push(bridge);
    // The first C-STORE loads the script into Redis (EVALSHA answered NOSCRIPT, then EVAL): counted apart.
    const [first, ...rest] = study.files;
    expect((await storescu(bridge.dicomPort, [first!])).code).toBe(0);
    await client.config('RESETSTAT');
    const counted = await countCommands(redis.url, async () => {
      const sent = await storescu(bridge.dicomPort, rest);
      expect(sent.code, sent.stderr).toBe(0);
    });
    console.log(`[round trips] scp role, ${rest.length} C-STOREs: ${counted.total} commands`, Object.fromEntries(counted.byCommand));
    expect(counted.total).toBe(rest.length);
    expect(counted.enqueues).toBe(rest.length);
    expect(counted.appended).toBe(rest.length);
    // commandstats agrees: one script call per instance.
    expect(await commandCalls(client, 'evalsha')).toBe(rest.length);
    expect(await client.xlen('rt1:{instance-stream}:records')).toBe(INSTANCES);
  });

  it('over 4 associations at once, records that arrive together share a script call: never more calls than instances', async () => {
    const bridge = await startBridgeProcess({ env: { REDIS_URL: redis.url, REDIS_PREFIX: 'rt3' }, args: ['--role', 'scp'] });
    bridges.push(bridge);
    expect((await storescu(bridge.dicomPort, [study.files[0]!])).code).toBe(0);
    const rest = study.files.slice(1);
    const counted = await countCommands(redis.url, async () => {
      const groups = [0, 1, 2, 3].map((g) => rest.filter((_, i) => i % 4 === g));
      for (const sent of await Promise.all(groups.map((g) => storescu(bridge.dicomPort, g)))) expect(sent.code, sent.stderr).toBe(0);
    });
    console.log(`[round trips] scp role, 4 associations, ${rest.length} C-STOREs: ${counted.total} commands`, Object.fromEntries(counted.byCommand));
    expect(counted.total).toBe(counted.byCommand.get('evalsha'));
    expect(counted.total).toBeLessThanOrEqual(rest.length);
    expect(counted.appended).toBe(rest.length);
    expect(await client.xlen('rt3:{instance-stream}:records')).toBe(INSTANCES);
  });

  it('with the worker in the same process, the merge side adds commands per batch, not per instance', async () => {
    const bridge = await startBridgeProcess({ env: { REDIS_URL: redis.url, REDIS_PREFIX: 'rt2' } });
    bridges.push(bridge);
    const counted = await countCommands(redis.url, async () => {
      const sent = await storescu(bridge.dicomPort, study.files);
      expect(sent.code, sent.stderr).toBe(0);
      // Until every record is merged and gone from the stream (polled on another connection, not counted).
      for (let i = 0; i < 200 && (await client.xlen('rt2:{instance-stream}:records')) > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }, await addressOf(client));
    console.log(`[round trips] all roles, ${INSTANCES} C-STOREs: ${counted.total} commands`, Object.fromEntries(counted.byCommand));
    expect((await bridge.get(`/studies/${study.studyInstanceUid}`)).body.numberOfInstances).toBe(INSTANCES);
    // One enqueue script per instance; the merge side reads, merges and acknowledges whole batches
    // (one MULTI of XACK + XDEL per batch), with a bounded number of commands per batch, whatever the
    // batch size. (BullMQ's job per instance cost 3 or more: add, move to active, move to finished.)
    expect(counted.appended).toBe(INSTANCES);
    // (+1: a fresh process's first call may find the script not loaded yet: EVALSHA, then EVAL.)
    expect(counted.enqueues).toBeLessThanOrEqual(INSTANCES + 1);
    const batches = counted.byCommand.get('multi') ?? 0;
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(INSTANCES);
    expect(counted.total - counted.enqueues).toBeLessThanOrEqual(25 * batches);
  });
});
