import { describe, expect, it } from 'vitest';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import type { RemoteStudyStore } from '../../src/pipeline/sqlite/remote-study-store.js';
import { silentLogger, tempDir } from './helpers.js';
import { describeStudySearchContract } from './store-search-contract.js';

describeStudySearchContract('SQLite', async () => {
  const { dir, remove } = await tempDir('store-search-');
  const pipeline = openSqlitePipeline({ dataDir: dir, logger: silentLogger });
  return {
    store: pipeline.store,
    async cleanup() {
      await pipeline.close();
      await remove();
    },
  };
});

describe('SQLite search: the query plans use the indexes (no scan of the studies table)', () => {
  it.each([
    [{}, /studies_last_received/],
    [{ state: 'failed' as const }, /studies_state/],
    [{ studyInstanceUid: '1.2.3' }, /PRIMARY KEY|sqlite_autoindex_studies/],
    [{ accessionNumber: 'A1' }, /studies_accession/],
    [{ patientId: 'P1' }, /studies_patient_id/],
    [{ studyDateFrom: '20240101', studyDateTo: '20240131' }, /studies_study_date/],
    [{ receivedFrom: '2024-01-01T00:00:00Z' }, /studies_last_received/],
    [{ patientId: 'P1', state: 'failed' as const }, /studies_patient_id/],
    [{ accessionNumber: 'A1', patientId: 'P1', studyDateFrom: '20240101' }, /studies_accession/],
  ])('%j', async (search, index) => {
    const { dir, remove } = await tempDir('store-search-plan-');
    const pipeline = openSqlitePipeline({ dataDir: dir, logger: silentLogger });
    try {
      const store = pipeline.store as RemoteStudyStore;
      const plan = await store.searchPlan(search);
      const main = plan.filter((line) => / s\b| s USING/.test(line) || /^SCAN s$|^SEARCH s /.test(line));
      expect(main.join('\n'), plan.join('\n')).toMatch(index);
      expect(plan.join('\n')).not.toMatch(/^SCAN s$/m);
    } finally {
      await pipeline.close();
      await remove();
    }
  });
});
