// tsc copies no .lua files: this copies every src/**/*.lua to the same place under dist/ (run by `npm run build`),
// and the admin console's static files (src/http/admin/: HTML, CSS, JS modules; no build step).
import { cpSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

function luaFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? luaFiles(join(dir, e.name)) : e.name.endsWith('.lua') ? [join(dir, e.name)] : [],
  );
}

const files = luaFiles(src);
for (const file of files) cpSync(file, join(dist, relative(src, file)));
console.log(`copy-lua: ${files.length} .lua files copied to dist/`);

const adminSrc = join(src, 'http', 'admin');
cpSync(adminSrc, join(dist, 'http', 'admin'), { recursive: true });
console.log(`copy-lua: ${readdirSync(adminSrc).length} admin console files copied to dist/http/admin/`);
