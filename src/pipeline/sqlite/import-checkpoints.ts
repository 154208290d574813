import type Database from 'better-sqlite3';
import type { ImportCheckpoints } from '../import-checkpoints.js';

/** Import checkpoints in the import_checkpoints table (database.ts, schema 3). */
export function sqliteImportCheckpoints(db: Database.Database): ImportCheckpoints {
  const select = db.prepare<[string], { item: string }>('SELECT item FROM import_checkpoints WHERE run = ?');
  const insert = db.prepare<[string, string, number, string]>(
    'INSERT OR REPLACE INTO import_checkpoints (run, item, instances, done_at) VALUES (?, ?, ?, ?)',
  );
  const remove = db.prepare<[string]>('DELETE FROM import_checkpoints WHERE run = ?');
  return {
    async done(run) {
      return new Set(select.all(run).map((r) => r.item));
    },
    async mark(run, item, instances) {
      insert.run(run, item, instances, new Date().toISOString());
    },
    async clear(run) {
      remove.run(run);
    },
  };
}
