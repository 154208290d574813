// `npm start`'s prestart: compiles with tsc only when a source is newer than
// the build (dist/cli.js), so a start takes a second, not a full compile.
//   node scripts/build-if-stale.mjs            build when stale
//   node scripts/build-if-stale.mjs --dry-run  only say whether it is stale
//   --root DIR                                 the project (default: this script's parent)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 ? resolve(args[rootAt + 1]) : resolve(fileURLToPath(new URL('..', import.meta.url)));
const dryRun = args.includes('--dry-run');

/** Newest file under `dir` (recursively), or undefined when there is none. */
function newest(dir) {
  let best;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newest(path) : { path, mtimeMs: statSync(path).mtimeMs };
    if (candidate && (!best || candidate.mtimeMs > best.mtimeMs)) best = candidate;
  }
  return best;
}

function staleness() {
  let built;
  try {
    built = statSync(join(root, 'dist', 'cli.js')).mtimeMs;
  } catch {
    return 'dist/cli.js does not exist';
  }
  const sources = [newest(join(root, 'src')), { path: join(root, 'tsconfig.json'), mtimeMs: statSync(join(root, 'tsconfig.json')).mtimeMs }];
  const changed = sources.filter((s) => s && s.mtimeMs > built).sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  return changed ? `${relative(root, changed.path)} is newer than dist/cli.js` : undefined;
}

const reason = staleness();
if (dryRun) {
  process.stdout.write(reason ? `stale: ${reason}\n` : 'up to date\n');
  process.exit(0);
}
if (reason) {
  process.stderr.write(`building: ${reason}\n`);
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
