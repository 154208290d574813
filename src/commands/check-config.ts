import { parseArgs } from 'node:util';
import { maskSecrets } from '../config/mask.js';
import { loadConfigOrReport } from './load-config.js';
import { EXIT, type Command } from './types.js';

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'print the effective configuration (secrets masked); exit 2 on errors',
  usage: `dicom-fhir-bridge check-config [--config FILE]

Loads the file (or BRIDGE_CONFIG) and the environment as 'start' would and
prints the result as JSON with secrets masked. Exit 0 when valid, 2 with one
line per problem on stderr otherwise.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
    const config = loadConfigOrReport(values.config);
    if (!config) return EXIT.config;
    process.stdout.write(`${JSON.stringify(maskSecrets(config), null, 2)}\n`);
    return EXIT.ok;
  },
};
