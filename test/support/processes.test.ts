import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './free-port.js';
import { generateStudy, removeStudy, type GeneratedStudy } from './generate-study.js';
import { startProcess, storescu, trackedPids } from './processes.js';
import { run } from './run.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '../..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('startProcess', () => {
  it('waits for readyUrl, captures output and stops with SIGTERM', async () => {
    const port = await freePort();
    const script = `
      const http = require('node:http');
      console.log('starting');
      setTimeout(() => http.createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('listening ' + process.env.GREETING)), 300);`;
    const p = await startProcess(process.execPath, ['-e', script], {
      env: { GREETING: 'hello' },
      readyUrl: `http://127.0.0.1:${port}/`,
    });
    expect(p.pid).toBeGreaterThan(0);
    expect(trackedPids()).toContain(p.pid);
    await p.waitForOutput('listening hello');
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    const exit = await p.stop();
    expect(exit).toEqual({ code: null, signal: 'SIGTERM', killedAfterTimeout: false });
    expect(p.output()).toContain('starting');
    expect(alive(p.pid)).toBe(false);
    expect(trackedPids()).not.toContain(p.pid);
  });

  it('falls back to SIGKILL when the process ignores the signal, and kill9 kills at once', async () => {
    const script = "process.on('SIGTERM', () => console.log('ignoring')); setInterval(() => {}, 1000); console.log('up');";
    const stubborn = await startProcess(process.execPath, ['-e', script]);
    await stubborn.waitForOutput('up');
    const exit = await stubborn.stop('SIGTERM', 500);
    expect(exit.killedAfterTimeout).toBe(true);
    expect(exit.signal).toBe('SIGKILL');
    expect(stubborn.output()).toContain('ignoring');

    const other = await startProcess(process.execPath, ['-e', script]);
    await other.waitForOutput('up');
    await other.kill9();
    expect(await other.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('rejects with the output when the process exits before it is ready', async () => {
    const port = await freePort();
    await expect(
      startProcess(process.execPath, ['-e', "console.error('bad config'); process.exit(3)"], {
        readyUrl: `http://127.0.0.1:${port}/`,
      }),
    ).rejects.toThrow(/exited \(3\)[\s\S]*bad config/);
  });

  it('writes the output to logFile as well', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dfb-log-'));
    try {
      const logFile = join(dir, 'out.log');
      const p = await startProcess(process.execPath, ['-e', "console.log('to the log')"], { logFile });
      expect(await p.exited).toEqual({ code: 0, signal: null });
      const { readFile } = await import('node:fs/promises');
      await waitUntil(async () => (await readFile(logFile, 'utf8')).includes('to the log'), 'log file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kills every tracked process when the test process exits', async () => {
    // A separate Node process (vite-node runs the TypeScript) starts a long sleeper and exits.
    const dir = await mkdtemp(join(tmpdir(), 'dfb-exit-'));
    try {
      const script = join(dir, 'orphan.ts');
      const processesTs = join(here, 'processes.ts');
      await writeFile(
        script,
        `import { startProcess } from ${JSON.stringify(processesTs)};
         const p = await startProcess('sleep', ['300']);
         console.log('PID=' + p.pid);
         process.exit(0);`,
      );
      const result = await run(join(repoRoot, 'node_modules/.bin/vite-node'), [script], { cwd: repoRoot, timeoutMs: 60_000 });
      expect(result.code, result.stderr).toBe(0);
      const pid = Number(/PID=(\d+)/.exec(result.stdout)?.[1]);
      expect(pid).toBeGreaterThan(0);
      await waitUntil(() => !alive(pid), `sleeper ${pid} to be gone`);
      expect(alive(pid)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('storescu', () => {
  let study: GeneratedStudy;
  beforeAll(async () => {
    study = await generateStudy({ series: 2, instances: 3, modalities: ['CT', 'PT'], seed: 11 });
  });
  afterAll(async () => {
    await removeStudy(study.dir);
  });

  it('sends a directory and a list of files to a DCMTK storescp', async () => {
    const port = await freePort();
    const out = await mkdtemp(join(tmpdir(), 'dfb-scp-'));
    try {
      const scp = await startProcess('storescp', ['-aet', 'BRIDGE', '-od', out, String(port)]);
      await waitUntil(
        async () => (await run('echoscu', ['-aet', 'SCU', '-aec', 'BRIDGE', '127.0.0.1', String(port)], { timeoutMs: 5000 })).code === 0,
        'storescp to accept C-ECHO',
      );
      const all = await storescu(study.dir, { port });
      expect(all.code, all.stderr).toBe(0);
      await waitUntil(async () => (await readdir(out)).length === 6, 'six received files');

      const one = await storescu([study.files[0] as string], { port, aet: 'OTHER', aec: 'BRIDGE', extraArgs: ['-v'] });
      expect(one.code, one.stderr).toBe(0);
      expect(one.stderr + one.stdout).toContain('Store Response');

      await scp.stop();
      const received = await readdir(out);
      expect(received.length).toBe(6); // the re-sent instance overwrote its file
      const sopUids = study.series.flatMap((s) => s.sopInstanceUids);
      for (const uid of sopUids) expect(received.some((f) => f.endsWith(uid))).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

