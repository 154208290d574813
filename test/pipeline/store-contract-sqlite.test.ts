import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { silentLogger, tempDir } from './helpers.js';
import { describeStudyStoreContract } from './store-contract.js';

describeStudyStoreContract('SQLite', async () => {
  const { dir, remove } = await tempDir('store-contract-');
  const pipeline = openSqlitePipeline({ dataDir: dir, logger: silentLogger });
  return {
    store: pipeline.store,
    async cleanup() {
      await pipeline.close();
      await remove();
    },
  };
});
