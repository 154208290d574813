import { ConfigError, loadConfig } from '../config/load.js';
import type { BridgeConfig } from '../config/schema.js';

/** Loads the configuration or prints one line per problem; undefined means exit 2. */
export function loadConfigOrReport(file: string | undefined): BridgeConfig | undefined {
  try {
    return loadConfig({ file });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.problems.join('\n')}\n`);
      return undefined;
    }
    throw err;
  }
}
