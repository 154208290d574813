/** Runs `dicom-fhir-bridge import` (dist/cli.js) as a child process, as a person would. */
import { resolve } from 'node:path';
import { run, type RunResult } from '../support/run.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export function importCli(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<RunResult> {
  return run(process.execPath, [CLI, 'import', ...args], {
    timeoutMs,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
  });
}
