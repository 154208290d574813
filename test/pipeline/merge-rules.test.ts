/**
 * The merge rules table (src/pipeline/merge.ts) and its citations: each
 * store cites every rule as `[merge:<id>]` where it applies it, and cites no
 * rule that is not in the table. (What the rules do is tested per store by
 * the contract, merge-rule-tests.ts.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MERGE_RULES } from '../../src/pipeline/merge.js';

const PIPELINE = fileURLToPath(new URL('../../src/pipeline/', import.meta.url));

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : [],
  );
}

function citedIn(files: string[]): Set<string> {
  const cited = new Set<string>();
  for (const file of files) for (const m of readFileSync(file, 'utf8').matchAll(/\[merge:([a-z0-9-]+)\]/g)) cited.add(m[1]!);
  return cited;
}

const STORES = {
  SQLite: [path.join(PIPELINE, 'sqlite/study-store.ts')],
  Redis: [path.join(PIPELINE, 'redis/study-store.ts'), ...filesUnder(path.join(PIPELINE, 'redis/lua'), '.lua')],
};
const ids = MERGE_RULES.map((r) => r.id);

describe('merge rules', () => {
  it('have distinct kebab-case ids and a statement each', () => {
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of MERGE_RULES) {
      expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.statement.length).toBeGreaterThan(20);
    }
  });

  for (const [store, files] of Object.entries(STORES)) {
    it(`are each cited by the ${store} merge, which cites no other`, () => {
      const cited = citedIn(files);
      expect(ids.filter((id) => !cited.has(id))).toEqual([]);
      expect([...cited].filter((id) => !ids.includes(id as (typeof ids)[number]))).toEqual([]);
    });
  }
});
