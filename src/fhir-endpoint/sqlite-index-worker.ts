/**
 * The built-in FHIR endpoint's index worker thread: the one connection to
 * `fhir-index.sqlite` (SqliteResourceIndex, exclusive locking). A put the
 * disk does not answer (frozen, stalled) blocks this thread, not the event
 * loop, which answers the endpoint's requests 503 meanwhile
 * (remote-resource-index.ts). Calls run one at a time, in the order sent
 * (worker-host.ts).
 */
import { hostObjects } from '../pipeline/sqlite/worker-host.js';
import type { IndexWorkerSettings } from './remote-resource-index.js';
import { SqliteResourceIndex } from './sqlite-resource-index.js';

hostObjects<IndexWorkerSettings>('FHIR index worker', (settings) => {
  const index = new SqliteResourceIndex(settings);
  return { targets: { index }, close: () => index.close() };
});
