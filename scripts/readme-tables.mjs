// Regenerates the README's generated tables (between <!-- BEGIN:name --> and
// <!-- END:name --> markers) from the code, after `npm run build`.
//   node scripts/readme-tables.mjs          rewrite README.md
//   node scripts/readme-tables.mjs --check  exit 1 when README.md is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { ENVIRONMENT_KEYS } from '../dist/config/environment.js';
import { renderConformanceMarkdown } from '../dist/fhir/conformance.js';
import { renderOwnedElementsMarkdown } from '../dist/fhir/owned-elements.js';

export function configTable() {
  const rows = ENVIRONMENT_KEYS.map(
    (k) => `| \`${k.env}\` | \`${k.path}\` | ${k.default.startsWith('(') ? k.default : `\`${k.default}\``} | ${k.description} |`,
  );
  return ['| Environment | YAML key | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export const TABLES = {
  config: configTable,
  conformance: () => renderConformanceMarkdown().trim(),
  owned: () => renderOwnedElementsMarkdown().trim(),
};

export function render(readme) {
  let out = readme;
  for (const [name, make] of Object.entries(TABLES)) {
    const pattern = new RegExp(`(<!-- BEGIN:${name} -->\\n)(?:[\\s\\S]*?\\n)?(<!-- END:${name} -->)`);
    if (!pattern.test(out)) throw new Error(`README.md has no ${name} markers`);
    out = out.replace(pattern, (_m, begin, end) => `${begin}${make()}\n${end}`);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL('../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const next = render(readme);
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md tables are stale: run node scripts/readme-tables.mjs');
      process.exit(1);
    }
  } else writeFileSync(path, next);
}
