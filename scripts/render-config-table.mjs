// Prints the README's configuration table from src/config/environment.ts (compiled into dist/).
import { ENVIRONMENT_KEYS } from '../dist/config/environment.js';

console.log('| Environment | YAML key | Default | Meaning |');
console.log('|---|---|---|---|');
for (const k of ENVIRONMENT_KEYS) {
  console.log(`| \`${k.env}\` | \`${k.path}\` | ${k.default.startsWith('(') ? k.default : `\`${k.default}\``} | ${k.description} |`);
}
