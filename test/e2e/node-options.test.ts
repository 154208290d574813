/**
 * How the bridge process runs on V8 (src/young-generation.ts, database-client.ts):
 * its young generation stays at the initial 1 MiB semi-spaces through start,
 * the database worker's start and ingest (issue 20, item 6: peak memory), an
 * operator's own --max-semi-space-size is left alone, and V8 options on the
 * command line no longer stop the database worker from starting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { storescu } from '../support/processes.js';

/** The main isolate's new space (both semi-spaces) as /metrics reports it. */
async function newSpaceBytes(bridge: BridgeProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${bridge.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('dfb_nodejs_heap_space_size_total_bytes{space="new"}'));
  if (line === undefined) throw new Error('no new-space gauge in /metrics');
  return Number(line.split(' ').pop());
}

async function successes(bridge: BridgeProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${bridge.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('dfb_cstore_responses_total{status="0000"}'));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('V8 settings of the bridge process', () => {
  let study: GeneratedStudy;
  const bridges: BridgeProcess[] = [];
  beforeAll(async () => {
    study = await generateStudy({ instances: 300, size: 'small' });
  }, 120_000);
  afterAll(async () => {
    for (const b of bridges) {
      await b.stop();
      b.cleanup();
    }
    await removeStudy(study.dir);
  });

  it('keeps the young generation at 1 MiB semi-spaces while it ingests (V8 would grow them to 8–16 MiB)', async () => {
    const bridge = await startBridgeProcess();
    bridges.push(bridge);
    const sent = await storescu(study.dir, { port: bridge.dicomPort, aec: bridge.aeTitle });
    expect(sent.code, sent.stderr).toBe(0);
    expect(await successes(bridge)).toBe(300);
    // 2 MiB (two 1 MiB semi-spaces) on Node 20; left alone V8 reaches 16 MiB here (the next test).
    expect(await newSpaceBytes(bridge)).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it('starts with V8 options on its command line, and leaves an operator-sized young generation alone', async () => {
    const bridge = await startBridgeProcess({ nodeArgs: ['--max-semi-space-size=8', '--stack-trace-limit=20'] });
    bridges.push(bridge);
    const sent = await storescu(study.dir, { port: bridge.dicomPort, aec: bridge.aeTitle });
    expect(sent.code, sent.stderr).toBe(0);
    // The database worker runs (every success is a committed record) although Node refuses these options for a worker.
    expect(await successes(bridge)).toBe(300);
    expect(await newSpaceBytes(bridge)).toBeGreaterThan(4 * 1024 * 1024);
  });
});
