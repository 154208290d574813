/**
 * A real C-FIND SCP for tests: DCMTK's dcmqrscp on a free 127.0.0.1 port
 * with one storage area (AE title DCMQR, any peer may query and store) in a
 * temp directory, its configuration file written there. Files are loaded
 * with storescu into its storage area before or while it runs. Verbose log
 * (-d) kept in memory: tests read what it received (C-CANCEL-RQ, say).
 * Stopped by PID.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startProcess, storescu, type StartedProcess } from './processes.js';
import { run } from './run.js';

/** Until echoscu is answered (10 s), or the process exits. */
async function answersEcho(port: number, aeTitle: string, proc: StartedProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  for (;;) {
    const r = await run('echoscu', ['-aec', aeTitle, '127.0.0.1', String(port)], { timeoutMs: 5_000 });
    if (r.code === 0) return;
    if (exited || Date.now() > deadline) {
      await proc.stop('SIGKILL', 1_000);
      throw new Error(`dcmqrscp did not answer C-ECHO on ${port}: ${proc.output().slice(-400)}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

export interface TestDcmqrscp {
  aeTitle: string;
  port: number;
  readonly pid: number;
  /** storescu of files (or a directory) into the storage area; throws when storescu fails. */
  store(filesOrDir: string | readonly string[]): Promise<void>;
  /** Its log so far (-d: every DIMSE message). */
  output(): string;
  /** Until the log (its children's included) matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startDcmqrscp(aeTitle = 'DCMQR'): Promise<TestDcmqrscp> {
  const dir = await mkdtemp(join(tmpdir(), 'dfb-dcmqrscp-'));
  const storage = join(dir, 'db');
  await mkdir(storage);
  const port = await freePort();
  const configFile = join(dir, 'dcmqrscp.cfg');
  await writeFile(
    configFile,
    [
      `NetworkTCPPort = ${port}`,
      'MaxPDUSize = 16384',
      'MaxAssociations = 16',
      'HostTable BEGIN',
      'HostTable END',
      'VendorTable BEGIN',
      'VendorTable END',
      'AETable BEGIN',
      `${aeTitle} ${storage} RW (2000, 4096mb) ANY`,
      'AETable END',
      '',
    ].join('\n'),
  );
  let proc: StartedProcess;
  try {
    // A child per association (it ends with its association); the parent is the PID stopped.
    proc = await startProcess('dcmqrscp', ['-d', '-c', configFile]);
    await answersEcho(port, aeTitle, proc);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    aeTitle,
    port,
    pid: proc.pid,
    async store(filesOrDir) {
      const result = await storescu(filesOrDir, { port, aec: aeTitle });
      if (result.code !== 0) throw new Error(`storescu to dcmqrscp failed (${result.code}): ${result.stderr.slice(0, 400)}`);
    },
    output: () => proc.output(),
    waitForOutput: (pattern, timeoutMs = 10_000) => proc.waitForOutput(pattern, timeoutMs),
    async stop() {
      await proc.stop('SIGTERM', 5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
