import { parseArgs } from 'node:util';
import { AccessConfigurationError, startBridge, type Role } from '../bridge.js';
import { createLogger } from '../logger.js';
import { loadConfigOrReport } from './load-config.js';
import { EXIT, type Command } from './types.js';

const ROLES: readonly Role[] = ['all', 'scp', 'worker'];

export const startCommand: Command = {
  name: 'start',
  summary: 'run the daemon (DICOM receiver, pipeline, HTTP endpoints)',
  usage: `dicom-fhir-bridge start [--config FILE] [--role all|scp|worker]

  --role all     receiver, aggregator and publisher in one process (default)
  --role scp     only the DICOM receiver: needs REDIS_URL, no FHIR settings
  --role worker  only aggregator and publisher: needs REDIS_URL, no DICOM port

Signals: SIGTERM or SIGINT stop gracefully (no new associations, running ones
finish within 10 s, stores closed, exit 0); SIGHUP re-reads the configuration
file and applies its peers and allowed callers to new associations.`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, role: { type: 'string', default: 'all' } },
    });
    const role = values.role as Role;
    if (!ROLES.includes(role)) {
      process.stderr.write(`--role must be one of ${ROLES.join(', ')}\n`);
      return EXIT.usage;
    }
    const config = loadConfigOrReport(values.config);
    if (!config) return EXIT.config;
    const logger = createLogger(config.log.level, undefined, { format: config.log.format });
    let bridge;
    try {
      bridge = await startBridge(config, logger, role);
    } catch (err) {
      if (err instanceof AccessConfigurationError) {
        process.stderr.write(`${err.message}\n`);
        return EXIT.config;
      }
      logger.fatal({ err }, 'cannot start');
      return EXIT.failure;
    }
    const running = bridge;
    process.on('SIGHUP', () => {
      const next = loadConfigOrReport(values.config);
      if (next) running.reloadPeers(next);
      else logger.error('SIGHUP: configuration invalid, peers unchanged (problems on stderr)');
    });
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
  },
};
