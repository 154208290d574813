import { checkConfigCommand } from './check-config.js';
import { echoCommand } from './echo.js';
import { importCommand } from './import.js';
import { republishCommand } from './republish.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import type { Command } from './types.js';

/** Every subcommand, in the order --help lists them. */
export const COMMANDS: readonly Command[] = [startCommand, checkConfigCommand, statusCommand, republishCommand, importCommand, echoCommand];
