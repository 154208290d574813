/**
 * Safe operation of one bridge: an exclusive DATA_DIR (a second bridge on it
 * exits 1 naming the holder's PID; a crashed holder leaves no lock behind),
 * a DATA_DIR that cannot hold the store exits 1 with the reason instead of
 * hanging, and a stopped bridge leaves nothing that keeps its process alive.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { freePort } from '../support/free-port.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { run } from '../support/run.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const DIST = resolve(import.meta.dirname, '../../dist');

async function startCli(dataDir: string, timeoutMs = 20_000) {
  return run(process.execPath, [CLI, 'start'], {
    env: { DATA_DIR: dataDir, DICOM_HOST: '127.0.0.1', DICOM_PORT: String(await freePort()), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(await freePort()), ADMIN_TOKEN: '' },
    timeoutMs,
  });
}

describe('DATA_DIR', () => {
  let first: BridgeProcess | undefined;
  afterAll(async () => {
    await first?.stop();
    first?.cleanup();
  });

  it('one bridge per DATA_DIR: the second exits 1 naming the holder; after kill -9 of the holder the next one starts', async () => {
    first = await startBridgeProcess();
    const second = await startCli(first.dataDir);
    expect(second.code).toBe(1);
    expect(second.stdout + second.stderr).toContain(`DATA_DIR ${first.dataDir} is in use by another dicom-fhir-bridge (PID ${first.child.pid} on `);
    expect((await first.get('/readyz')).status).toBe(200); // the holder goes on

    await first.kill9();
    const next = await startBridgeProcess({ dataDir: first.dataDir });
    expect((await next.get('/readyz')).status).toBe(200);
    expect(await next.stop()).toBe(0);
  });

  it.each([
    ['/proc/nope', /DATA_DIR \/proc\/nope: \/proc is on a proc filesystem, not storage/],
    ['/proc/nope/deeper', /DATA_DIR \/proc\/nope\/deeper: \/proc is on a proc filesystem/],
    ['/sys/kernel/nope', /DATA_DIR \/sys\/kernel\/nope: \/sys\/kernel is on a sysfs filesystem/],
  ])('DATA_DIR=%s exits 1 with the reason (it hung before)', async (dir, reason) => {
    const result = await startCli(dir);
    expect(result.signal).toBeNull(); // not killed by the timeout
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(reason);
  });

  it('a DATA_DIR that is a file exits 1 with the reason', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'bridge-file-'));
    const file = join(parent, 'not-a-dir');
    writeFileSync(file, 'x');
    const result = await startCli(join(file, 'data'));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${file} is not a directory`);
    rmSync(parent, { recursive: true, force: true });
  });
});

describe('after stop, nothing keeps the process alive', () => {
  let redis: TestRedis | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  /** Starts and stops a bridge in a fresh Node process that never calls process.exit: it must end by itself. */
  async function startAndStop(env: Record<string, string>) {
    const dataDir = mkdtempSync(join(tmpdir(), 'bridge-exit-'));
    const script = `
      import { startBridge } from ${JSON.stringify(join(DIST, 'bridge.js'))};
      import { loadConfig } from ${JSON.stringify(join(DIST, 'config/load.js'))};
      import { createLogger } from ${JSON.stringify(join(DIST, 'logger.js'))};
      const env = ${JSON.stringify({ DATA_DIR: dataDir, DICOM_HOST: '127.0.0.1', DICOM_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...env })};
      const bridge = await startBridge(loadConfig({ env }), createLogger('warn'));
      await new Promise((r) => setTimeout(r, 500));
      await bridge.stop();
      console.log('STOPPED');
      // What is still there a moment later is what would keep the process alive.
      setTimeout(() => console.log('STILL ALIVE', JSON.stringify(process.getActiveResourcesInfo())), 3000).unref();
    `;
    const result = await run(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 30_000 });
    rmSync(dataDir, { recursive: true, force: true });
    return result;
  }

  it('embedded, with a FHIR server that does not answer (the /metadata retry timer held it ~15 s)', async () => {
    const result = await startAndStop({ FHIR_BASE_URL: `http://127.0.0.1:${await freePort()}/fhir` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('STOPPED');
    expect(result.stdout).not.toContain('STILL ALIVE');
  });

  it('distributed (Redis), with the built-in endpoint', async () => {
    redis = await startRedis({ appendfsync: 'no' });
    const result = await startAndStop({ REDIS_URL: redis.url, REDIS_PREFIX: 'exit1' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('STOPPED');
    expect(result.stdout).not.toContain('STILL ALIVE');
  });
});
