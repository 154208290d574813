/**
 * The ResourceIndex contract against the index as the bridge runs it:
 * SqliteResourceIndex in its worker thread, called through
 * RemoteResourceIndex (searches and errors cross by structured clone, the
 * resources read or found as their stored JSON texts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { RemoteResourceIndex } from '../../src/fhir-endpoint/remote-resource-index.js';
import { describeResourceIndexContract } from './index-contract.js';

describeResourceIndexContract('SQLite in its worker thread', async (options) => {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-index-remote-'));
  const index = new RemoteResourceIndex({ ...options, dataDir: dir, timeoutMs: 10_000, logger: pino({ level: 'silent' }) });
  await index.ready;
  return {
    index,
    async cleanup() {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
