/** `npm start` compiles only when a source is newer than the build (scripts/build-if-stale.mjs). */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../support/run.js';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/build-if-stale.mjs');
const root = mkdtempSync(join(tmpdir(), 'build-if-stale-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const at = (path: string, seconds: number) => utimesSync(join(root, path), seconds, seconds);
const check = async () => (await run(process.execPath, [SCRIPT, '--dry-run', '--root', root])).stdout.trim();

describe('build-if-stale', () => {
  it('says what is newer than dist/cli.js, and up to date otherwise', async () => {
    mkdirSync(join(root, 'src', 'http'), { recursive: true });
    for (const f of ['src/cli.ts', 'src/http/server.ts', 'tsconfig.json']) writeFileSync(join(root, f), '');
    expect(await check()).toBe('stale: dist/cli.js does not exist');
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', 'cli.js'), '');
    for (const f of ['src/cli.ts', 'src/http/server.ts', 'tsconfig.json']) at(f, 1_000);
    at('dist/cli.js', 2_000);
    expect(await check()).toBe('up to date');
    at('src/http/server.ts', 3_000);
    expect(await check()).toBe('stale: src/http/server.ts is newer than dist/cli.js');
    at('dist/cli.js', 4_000);
    at('tsconfig.json', 5_000);
    expect(await check()).toBe('stale: tsconfig.json is newer than dist/cli.js');
  });

  it('is what npm start runs first', async () => {
    const pkg = JSON.parse(await readFile(resolve(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(pkg.scripts.prestart).toBe('node scripts/build-if-stale.mjs');
    expect(pkg.scripts.start).toBe('node dist/cli.js start');
  });
});
