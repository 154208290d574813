/**
 * Every shell block of README.md runs, against a fresh start (`npm start`
 * in this checkout, a new DATA_DIR, free ports), as a user would type it:
 * only the ports, the example paths and the variables the README names
 * (STUDY, PATIENT_ID, ADMIN_TOKEN) are filled in. Each block is marked
 * `<!-- readme-commands: NAME -->`; an unmarked block fails this test. The
 * `ci` blocks (npm ci, npm test, npm run build) are checked to be what
 * `.ci/run` and `npm test` run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/bridge-process.js';
import { freePort } from '../support/free-port.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { run } from '../support/run.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ADMIN_TOKEN = 'readme-admin-token-0123456789abcdef';

interface Block {
  name: string;
  text: string;
}

async function readmeBlocks(): Promise<{ blocks: Block[]; shellBlocks: number }> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/<!-- readme-commands: ([\w-]+) -->\n```sh\n([\s\S]*?)```/g)].map((m) => ({ name: m[1]!, text: m[2]! }));
  return { blocks, shellBlocks: [...readme.matchAll(/^```(sh|bash|shell)$/gm)].length };
}

/** The commands of a block, comments and blank lines left out. */
const commandsOf = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

interface Started {
  child: ChildProcess;
  httpPort: number;
  dicomPort: number;
  dataDir: string;
  output: () => string;
}

/** `npm start` in this checkout (its own process group, stopped by its PID), ready when /readyz answers. */
async function npmStart(env: Record<string, string> = {}): Promise<Started> {
  const httpPort = await freePort();
  const dicomPort = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'readme-data-'));
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      HTTP_PORT: String(httpPort),
      DICOM_PORT: String(dicomPort),
      DICOM_HOST: '127.0.0.1',
      ...env,
    },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${out}`);
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      return res.status === 200 ? true : undefined;
    },
    90_000,
    'npm start ready',
  );
  return { child, httpPort, dicomPort, dataDir, output: () => out };
}

async function stop(started: Started | undefined): Promise<void> {
  if (!started || started.child.exitCode !== null) return;
  const exited = new Promise((r) => started.child.once('exit', r));
  process.kill(-started.child.pid!, 'SIGTERM');
  await exited;
  await rm(started.dataDir, { recursive: true, force: true });
}

/** Runs a block in bash with the ports and example paths of this run. */
function runBlock(block: Block, bridge: Started, env: Record<string, string>, paths: Record<string, string> = {}) {
  let script = block.text.replaceAll('localhost:8080', `localhost:${bridge.httpPort}`).replaceAll('127.0.0.1 11112', `127.0.0.1 ${bridge.dicomPort}`);
  for (const [from, to] of Object.entries(paths)) script = script.replaceAll(from, to);
  return run('bash', ['-c', `set -eo pipefail\n${script}`], {
    cwd: ROOT,
    env: { HTTP_PORT: String(bridge.httpPort), ...env },
    timeoutMs: 120_000,
  });
}

let blocks: Block[];
let study: GeneratedStudy;
let single: GeneratedStudy;
const block = (name: string) => {
  const found = blocks.find((b) => b.name === name);
  if (!found) throw new Error(`README has no block ${name}`);
  return found;
};

beforeAll(async () => {
  ({ blocks } = await readmeBlocks());
  // A study directory with one RLE-compressed file (what storescu +sd +r stops at), and one more file alone.
  study = await generateStudy({ series: 2, instances: 2, patientId: 'README-PID-1' });
  const compressed = join(study.dir, 'S001', 'rle.dcm');
  const rle = await run('dcmcrle', [study.files[0]!, compressed]);
  expect(rle.code, rle.stderr).toBe(0);
  await rm(study.files[0]!);
  single = await generateStudy({ series: 1, instances: 1, patientId: 'README-PID-2' });
  await copyFile(single.files[0]!, join(single.dir, 'image.dcm'));
});
afterAll(async () => {
  await removeStudy(study.dir);
  await removeStudy(single.dir);
});

describe('README.md commands', () => {
  it('every shell block is marked and has a runner here', async () => {
    const { shellBlocks } = await readmeBlocks();
    expect(blocks).toHaveLength(shellBlocks);
    expect([...new Set(blocks.map((b) => b.name))].sort()).toEqual(['access', 'ci', 'dead-letters', 'fhir-endpoint', 'find-uids', 'first-study']);
  });

  it('the ci blocks are what .ci/run and npm test run (npm start: below)', async () => {
    const ci = await readFile(join(ROOT, '.ci/run'), 'utf8');
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    const commands = blocks.filter((b) => b.name === 'ci').flatMap((b) => commandsOf(b.text).flatMap((c) => c.split('&&').map((p) => p.trim())));
    expect(new Set(commands)).toEqual(new Set(['npm ci', 'npm start', 'npm test', 'npm run build']));
    expect(ci).toMatch(/^npm ci$/m);
    expect(ci).toMatch(/^npm test$/m);
    expect(pkg.scripts.pretest).toContain('npm run build');
  });

  describe('against a fresh `npm start`', () => {
    let bridge: Started | undefined;
    beforeAll(async () => {
      bridge = await npmStart();
    }, 120_000);
    afterAll(() => stop(bridge));

    it('A first study: echoscu, dcmsend of a directory with a compressed file, storescu of one file', async () => {
      const result = await runBlock(block('first-study'), bridge!, {}, { '/path/to/study/': `${study.dir}/`, '/path/to/image.dcm': join(single.dir, 'image.dcm') });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      // Acknowledged instances are queued; the store has them a moment later.
      const expected = [`${single.studyInstanceUid}=1`, `${study.studyInstanceUid}=4`].sort().join(' ');
      await eventually(async () => {
        const list = (await (await fetch(`http://127.0.0.1:${bridge!.httpPort}/studies`)).json()) as any[];
        return list.map((s) => `${s.studyInstanceUid}=${s.numberOfInstances}`).sort().join(' ') === expected ? true : undefined;
      }, 30_000, `studies ${expected}`);
      // What the README says of storescu +sd +r: it stops at the compressed file.
      const storescu = await run('storescu', ['-aet', 'MYCT', '-aec', 'FHIRBRIDGE', '+sd', '+r', '127.0.0.1', String(bridge!.dicomPort), study.dir]);
      expect(storescu.code).not.toBe(0);
      expect(storescu.stderr).toMatch(/Store Failed, file: .*rle\.dcm/);
    });

    it('finding the UIDs of what arrived, and the first FHIR searches', async () => {
      for (const uid of [study.studyInstanceUid, single.studyInstanceUid]) {
        await eventually(async () => {
          const r = await fetch(`http://127.0.0.1:${bridge!.httpPort}/studies/${uid}`);
          return ((await r.json()) as any).publishState === 'published' ? true : undefined;
        }, 30_000, `${uid} published`);
      }
      const result = await runBlock(block('find-uids'), bridge!, { PATIENT_ID: 'README-PID-2' });
      expect(result.code, result.stderr).toBe(0);
      const out = result.stdout;
      expect(out).toContain(study.studyInstanceUid);
      expect(out).toMatch(/studies: +0 pending, 2 published, 0 failed/);
      expect(out).toContain(`"numberOfInstances":1`);
      const bundles = [...out.matchAll(/\{"resourceType":"Bundle".*?"total":(\d+)/g)].map((m) => Number(m[1]));
      expect(bundles).toEqual([1, 1]);
    });

    it('Built-in FHIR endpoint', async () => {
      const result = await runBlock(block('fhir-endpoint'), bridge!, { PATIENT_ID: 'README-PID-1', STUDY: study.studyInstanceUid });
      expect(result.code, result.stderr).toBe(0);
      const out = result.stdout;
      const bundles = [...out.matchAll(/\{"resourceType":"Bundle".*?"total":(\d+)/g)].map((m) => Number(m[1]));
      expect(bundles).toEqual([1, 1]);
      expect(out).toContain(`{"resourceType":"ImagingStudy","id":"${study.studyInstanceUid}"`);
      expect(out).toContain('"resourceType":"CapabilityStatement"');
    });
  });

  describe('against a fresh `npm start` with ADMIN_TOKEN', () => {
    let bridge: Started | undefined;
    beforeAll(async () => {
      bridge = await npmStart({ ADMIN_TOKEN });
    }, 120_000);
    afterAll(() => stop(bridge));

    it('Access: curl and the status command with the token', async () => {
      const result = await runBlock(block('access'), bridge!, { ADMIN_TOKEN });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`"studies":{"pending":0,"published":0,"failed":0}`);
      expect(result.stdout).toMatch(/studies: +0 pending, 0 published, 0 failed/);
      const without = await fetch(`http://127.0.0.1:${bridge!.httpPort}/status`);
      expect(without.status).toBe(401);
    });
  });

  describe('against a redis-server (distributed mode)', () => {
    let redis: TestRedis | undefined;
    beforeAll(async () => {
      redis = await startRedis({ appendfsync: 'no' });
    });
    afterAll(() => redis?.stop());

    it('Dead letters: count and reasons, one given up, one re-queued, then all', async () => {
      const client = new Redis(redis!.url);
      const deadLetters = 'dfb:{instance-stream}:dead-letters';
      const records = 'dfb:{instance-stream}:records';
      try {
        // As the bridge writes them (instance-dead-letters.ts; the moving itself: test/pipeline/redis/instance-stream-faults.test.ts).
        const ids: string[] = [];
        for (const i of [1, 2, 3]) {
          const r = JSON.stringify({ patient: { patientName: { alphabetic: 'README^PATIENT' } }, n: i });
          const fields = ['entry-id', `170000000000${i}-0`, 'reason', 'record without study.studyInstanceUid', 'error', 'record without study.studyInstanceUid'];
          ids.push((await client.xadd(deadLetters, '*', ...fields, 'deliveries', '5', 'dead-lettered-at', new Date().toISOString(), 'r', r))!);
        }
        const script = block('dead-letters').text.replaceAll('1733140000000-0', ids[0]!).replaceAll('1733140000001-0', ids[1]!);
        const result = await run('bash', ['-c', `set -eo pipefail\n${script}`], { cwd: ROOT, env: { REDIS_URL: redis!.url }, timeoutMs: 60_000 });
        expect(result.code, result.stderr).toBe(0);
        const out = result.stdout.split('\n');
        expect(out[0]).toBe('3');
        for (const id of ids) expect(out).toContain(id);
        expect(out).toContain('1700000000001-0');
        expect(out).toContain('record without study.studyInstanceUid');
        expect(result.stdout.split('README^PATIENT').length - 1).toBe(0);
        // XDEL answered 1, the re-queue of one 1, the re-queue of all 1 (the one left).
        expect(out.slice(-4, -1)).toEqual(['1', '1', '1']);
        expect(await client.xlen(deadLetters)).toBe(0);
        const requeued = (await client.xrange(records, '-', '+')).map(([, f]) => JSON.parse(f[1]!).n as number);
        expect(requeued).toEqual([1, 3]);
      } finally {
        client.disconnect();
      }
    });
  });
});
