/**
 * Keeps V8's young generation at its initial size (1 MiB semi-spaces) for the
 * whole process, the database worker included. Imported first by cli.ts, so
 * it runs before the other modules are evaluated.
 *
 * Why: left alone, V8 grows the semi-spaces to 8 MiB while the modules load
 * and up to 16 MiB under load. Every page of them gets written, so a bridge
 * that allocates little (a C-STORE's garbage is a few small objects) held
 * about 16 MB more resident memory for nothing (issue 20, item 6: peak RSS
 * with 4 CT associations 115 -> 94 MB). A scavenge costs what survives it,
 * not the size of the space, so collecting more often costs little CPU here
 * (bench/system.bench.ts measures both).
 *
 * An operator who sizes the young generation himself (--max-semi-space-size,
 * on the command line or in NODE_OPTIONS) is left alone.
 */
import { setFlagsFromString } from 'node:v8';

const SETTING = '--semi-space-growth-factor=1';
const apply = (): void => setFlagsFromString(SETTING);

const own = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
if (!own.some((flag) => /^--(max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/.test(flag))) {
  apply();
  // A starting worker thread puts V8's flags back to the command line's (measured on Node 20): set again once it runs.
  process.on('worker', (worker) => worker.once('online', apply));
}
