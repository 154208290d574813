#!/usr/bin/env node
// Checks the system tools the tests use (DCMTK, redis-server, pydicom, chromium) and,
// when some are missing, installs them with apt-get if running as root, or
// prints the command to run and exits 1. Silent when everything is present.
// Runs as npm `pretest`.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const PACKAGES = ['dcmtk', 'redis-server', 'python3-pydicom', 'chromium'];
const PYTHON = '/usr/bin/python3';

const checks = [
  ...['storescu', 'dcmdump', 'dcmsend', 'echoscu', 'storescp'].map((tool) => ({
    name: tool,
    pkg: 'dcmtk',
    ok: () => onPath(tool),
  })),
  { name: 'redis-server', pkg: 'redis-server', ok: () => onPath('redis-server') },
  { name: 'redis-cli', pkg: 'redis-server', ok: () => onPath('redis-cli') },
  // The admin console's browser tests drive Debian's chromium (playwright-core downloads no browser here).
  { name: 'chromium (/usr/bin/chromium)', pkg: 'chromium', ok: () => executable('/usr/bin/chromium') },
  {
    name: `pydicom (${PYTHON})`,
    pkg: 'python3-pydicom',
    ok: () => spawnSync(PYTHON, ['-c', 'import pydicom'], { stdio: 'ignore' }).status === 0,
  },
];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(tool) {
  return spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function missing() {
  return checks.filter((c) => !c.ok());
}

let absent = missing();
if (absent.length === 0) process.exit(0);

const names = absent.map((c) => c.name).join(', ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  console.error(`Missing system dependencies for the tests: ${names}`);
  console.error(`Install them with:\n  sudo apt-get install -y ${PACKAGES.join(' ')}`);
  process.exit(1);
}

console.error(`Missing ${names}: installing ${PACKAGES.join(' ')} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...PACKAGES]]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}
absent = missing();
if (absent.length > 0) {
  console.error(`Still missing after apt-get: ${absent.map((c) => c.name).join(', ')}`);
  process.exit(1);
}
