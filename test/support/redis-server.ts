/**
 * A real redis-server (Debian 7.0) for tests: a free port on 127.0.0.1, a
 * fresh directory, append-only file on, no RDB snapshots. restart() reuses
 * the directory and port, so what the AOF holds survives a kill -9.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startProcess, type StartedProcess } from './processes.js';

export interface StartRedisOptions {
  /** `always` (default here: every acknowledged write is on disk), `everysec` or `no`. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** More `redis-server` arguments. */
  extraArgs?: string[];
}

export interface TestRedis {
  port: number;
  url: string;
  /** PID of the running server (changes on restart). */
  readonly pid: number;
  /** SIGTERM, wait for the exit, remove the directory. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and directory (stopping it first if it runs). */
  restart(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when the server answers PING on `port`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'dfb-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'yes',
    '--appendfsync', options.appendfsync ?? 'always',
    '--dir', dir,
    ...(options.extraArgs ?? []),
  ];
  let proc: StartedProcess | undefined;

  const launch = async (): Promise<void> => {
    const started = await startProcess('redis-server', args);
    proc = started;
    const deadline = Date.now() + 15_000;
    let exited = false;
    void started.exited.then(() => (exited = true));
    while (!(await ping(port))) {
      if (exited) throw new Error(`redis-server exited on start:\n${started.output()}`);
      if (Date.now() > deadline) {
        await started.kill9();
        throw new Error(`redis-server not ready on port ${port}:\n${started.output()}`);
      }
      await sleep(50);
    }
  };
  const halt = async (): Promise<void> => {
    if (proc !== undefined) await proc.stop('SIGTERM', 10_000);
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return proc?.pid ?? -1;
    },
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await launch();
    },
  };
}

/**
 * One redis-server for the calling test file (no fsync: these tests don't
 * crash it) and a client on it, started before its tests and stopped after;
 * with `flushAfterEach` the database is flushed after each test.
 */
export function useRedisServer(options: { flushAfterEach?: boolean } = {}): { readonly server: TestRedis; readonly client: Redis } {
  let server: TestRedis | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis({ appendfsync: 'no' });
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  if (options.flushAfterEach) {
    afterEach(async () => {
      await client?.flushdb();
    });
  }
  afterAll(async () => {
    await client?.quit();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('redis-server not started yet');
      return server;
    },
    get client() {
      if (!client) throw new Error('redis client not connected yet');
      return client;
    },
  };
}
