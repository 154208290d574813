#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startBridge } from './bridge.js';
import { ENVIRONMENT_KEYS } from './config/environment.js';
import { ConfigError, loadConfig } from './config/load.js';
import { maskSecrets } from './config/mask.js';
import { createLogger } from './logger.js';

/** Exit codes, as documented in --help. */
const EXIT = { ok: 0, failure: 1, config: 2, usage: 64 } as const;

const HELP = `dicom-fhir-bridge: receives DICOM instances by C-STORE and keeps one FHIR
ImagingStudy per study up to date on a FHIR server.

Usage:
  dicom-fhir-bridge start [--config FILE]    run the daemon (SCP, pipeline, HTTP endpoints)
  dicom-fhir-bridge check-config [--config FILE]
                                             print the effective configuration (secrets masked)
  dicom-fhir-bridge --help | --version

Options:
  -c, --config FILE   YAML configuration file (default: $BRIDGE_CONFIG, else none)
  -h, --help          this text
  -v, --version       the version

Every configuration key can be set in the environment:
${ENVIRONMENT_KEYS.map((k) => `  ${k.env.padEnd(34)} ${k.path}`).join('\n')}

Signals: SIGTERM or SIGINT stop gracefully (no new associations, running
ones finish, stores closed), then exit 0.

Exit codes:
  0   stopped normally / configuration valid
  1   runtime failure (port in use, store cannot be opened, ...)
  2   invalid configuration (one line per problem on stderr)
  64  usage error
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = positionals[0] ?? 'start';
  if (command !== 'start' && command !== 'check-config') {
    process.stderr.write(`unknown command: ${command}\n\n${HELP}`);
    return EXIT.usage;
  }

  let config;
  try {
    config = loadConfig({ file: values.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.problems.join('\n')}\n`);
      return EXIT.config;
    }
    throw err;
  }
  if (command === 'check-config') {
    process.stdout.write(`${JSON.stringify(maskSecrets(config), null, 2)}\n`);
    return EXIT.ok;
  }

  const logger = createLogger(config.log.level);
  let bridge;
  try {
    bridge = await startBridge(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    return EXIT.failure;
  }
  const running = bridge;
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      running.stop().then(
        () => resolve(EXIT.ok),
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          resolve(EXIT.failure);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit now rather than wait for stray handles (stdout and files are synchronous on Linux).
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT.failure;
  },
);
