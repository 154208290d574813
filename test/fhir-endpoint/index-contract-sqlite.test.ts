import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteResourceIndex } from '../../src/fhir-endpoint/sqlite-resource-index.js';
import { describeResourceIndexContract } from './index-contract.js';

describeResourceIndexContract('SQLite', async (options) => {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-index-contract-'));
  const index = new SqliteResourceIndex({ ...options, dataDir: dir });
  return {
    index,
    async cleanup() {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
