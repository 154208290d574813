/** The command line: parses it and runs a command (cli.ts loads this module once V8 is set up). */
import { readFileSync } from 'node:fs';
import { COMMANDS } from './commands/index.js';
import { EXIT } from './commands/types.js';
import { ENVIRONMENT_KEYS } from './config/environment.js';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `dicom-fhir-bridge: receives DICOM instances by C-STORE and keeps one FHIR
ImagingStudy per study up to date on a FHIR server.

Usage:
  dicom-fhir-bridge COMMAND [options]     (COMMAND defaults to start)
  dicom-fhir-bridge COMMAND --help        the command's own options
  dicom-fhir-bridge --help | --version

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Configuration: a YAML file (--config FILE or BRIDGE_CONFIG, example in
config/bridge.example.yaml); every key can be set in the environment:
${ENVIRONMENT_KEYS.map((k) => `  ${k.env.padEnd(34)} ${k.path}`).join('\n')}

Exit codes:
  0   stopped normally / command succeeded
  1   runtime failure (port in use, store cannot be opened, peer unreachable, ...)
  2   invalid configuration (one line per problem on stderr)
  64  usage error
`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(help());
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const named = first !== undefined && !first.startsWith('-');
  const command = COMMANDS.find((c) => c.name === (named ? first : 'start'));
  if (!command) {
    process.stderr.write(`unknown command: ${first}\n\n${help()}`);
    return EXIT.usage;
  }
  const args = named ? argv.slice(1) : argv;
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(args);
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${err.message}\n\n${command.usage}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit now rather than wait for stray handles (stdout and files are synchronous on Linux).
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(EXIT.failure);
  },
);
