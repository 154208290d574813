import { checkConfigCommand } from './check-config.js';
import { startCommand } from './start.js';
import type { Command } from './types.js';

/** Every subcommand, in the order --help lists them. */
export const COMMANDS: readonly Command[] = [startCommand, checkConfigCommand];
