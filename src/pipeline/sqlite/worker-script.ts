import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let bundled: URL | undefined;

/**
 * The database worker's script (database-worker.ts). Built (dist/): the
 * compiled file beside this one. From the TypeScript sources (the tests run
 * them through vitest), a worker thread cannot load .ts files, so the worker
 * and what it imports are bundled once per process with esbuild (vitest's
 * own dependency, not needed by dist/) into node_modules/.cache, where its
 * package imports (better-sqlite3) resolve.
 */
export function databaseWorkerScript(): URL {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new URL('./database-worker.js', self);
  if (bundled !== undefined) return bundled;
  const entry = fileURLToPath(new URL('./database-worker.ts', self));
  const root = path.resolve(path.dirname(entry), '..', '..', '..');
  const esbuild = createRequire(self)('esbuild') as typeof import('esbuild');
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
  const file = path.join(dir, `database-worker-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    // Written whole, then renamed: another test process may load the same file.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, file);
  }
  bundled = pathToFileURL(file);
  return bundled;
}
