import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundled = new Map<string, URL>();

/**
 * The script of a worker thread: the module `name` beside `beside` (the
 * caller's import.meta.url), e.g. workerScript(import.meta.url,
 * 'database-worker'). Built (dist/): the compiled file. From the TypeScript
 * sources (the tests run them through vitest), a worker thread cannot load
 * .ts files, so the worker and what it imports are bundled once per process
 * with esbuild (vitest's own dependency, not needed by dist/) into
 * node_modules/.cache, where its package imports (better-sqlite3) resolve.
 */
export function workerScript(beside: string, name: string): URL {
  if (!beside.endsWith('.ts')) return new URL(`./${name}.js`, beside);
  const entry = fileURLToPath(new URL(`./${name}.ts`, beside));
  const known = bundled.get(entry);
  if (known !== undefined) return known;
  // The repository root, from this file's place (src/pipeline/sqlite/).
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    sourcemap: 'inline',
  });
  const code = result.outputFiles[0]!.contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const dir = path.join(root, 'node_modules', '.cache', 'dicom-fhir-bridge');
  const file = path.join(dir, `${path.basename(name)}-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    // Written whole, then renamed: another test process may load the same file.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, file);
  }
  const url = pathToFileURL(file);
  bundled.set(entry, url);
  return url;
}
