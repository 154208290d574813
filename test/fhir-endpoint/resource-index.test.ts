/**
 * SqliteResourceIndex specifics, index terms, date ranges and deterministic ids.
 * What every ResourceIndex must do (put/replace/remove, a failing put, search)
 * is in index-contract.ts, run by index-contract-sqlite.test.ts and redis-index.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { fhirDateRange } from '../../src/fhir-endpoint/index-terms.js';
import { deterministicId, endpointId, imagingStudyId, patientId } from '../../src/fhir/resource-ids.js';
import type { FhirResource, ParsedSearch } from '../../src/fhir-endpoint/resource-index.js';
import { SqliteResourceIndex } from '../../src/fhir-endpoint/sqlite-resource-index.js';
import { dataSet, TIMEZONE } from './data-set.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fhir-index-unit-'));
  dirs.push(d);
  return d;
}

describe('deterministic ids', () => {
  test('ImagingStudy: the Study Instance UID; a non-id UID is hashed; Patient and Endpoint hashed', () => {
    expect(imagingStudyId('1.2.840.113619.2.55.3')).toBe('1.2.840.113619.2.55.3');
    const long = `1.${'2'.repeat(70)}`;
    expect(imagingStudyId(long)).toMatch(/^s-[0-9a-f]{62}$/);
    expect(patientId({ system: 'urn:oid:1.2', value: 'X' })).toMatch(/^p-[0-9a-f]{40}$/);
    expect(patientId({ system: 'urn:oid:1.2', value: 'X' })).not.toBe(patientId({ system: 'urn:oid:1.3', value: 'X' }));
    expect(endpointId('https://pacs/dicomweb/')).toBe(endpointId('https://pacs/dicomweb'));
  });

  test('deterministicId from the resource content, every version', () => {
    for (const version of ['R4', 'R5', 'STU3'] as const) {
      const resources = dataSet(version);
      for (const r of resources) {
        const { id, ...withoutId } = r;
        expect(deterministicId(withoutId as FhirResource)).toBe(id);
      }
    }
  });
});

describe('fhirDateRange', () => {
  const Z = (s: string) => Date.parse(s);
  test.each([
    ['2024', 'UTC', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'],
    ['2024-02', 'UTC', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'],
    ['2024-07-05', TIMEZONE, '2024-07-04T22:00:00Z', '2024-07-05T22:00:00Z'],
    ['2024-03-31', TIMEZONE, '2024-03-30T23:00:00Z', '2024-03-31T22:00:00Z'], // spring forward: a 23-hour day
    ['2024-07-05T14:30:00+09:00', TIMEZONE, '2024-07-05T05:30:00Z', '2024-07-05T05:30:01Z'],
    ['2024-07-05T14:30+09:00', TIMEZONE, '2024-07-05T05:30:00Z', '2024-07-05T05:31:00Z'],
    ['2024-07-05T14:30:00.12Z', TIMEZONE, '2024-07-05T14:30:00.120Z', '2024-07-05T14:30:00.130Z'],
    ['2024-01-05T14:30:00', TIMEZONE, '2024-01-05T13:30:00Z', '2024-01-05T13:30:01Z'],
  ])('%s in %s', (value, tz, low, high) => {
    expect(fhirDateRange(value, tz)).toEqual({ low: Z(low), high: Z(high) });
  });

  test.each(['2023-02-29', '2024-13', '2024-07-05T25:00:00Z', '24-07-05', '2024-07-05T10:00:00+15:00', ''])('%s is malformed', (v) => {
    expect(fhirDateRange(v, 'UTC')).toBeUndefined();
  });
});

describe('SqliteResourceIndex', () => {
  test('tables in a database passed in, which close() leaves open; WAL in its own file', async () => {
    const db = new Database(':memory:');
    const index = new SqliteResourceIndex({ db, fhirVersion: 'R4' });
    await index.put(dataSet('R4'));
    expect((db.prepare("SELECT count(*) AS n FROM fhir_resource WHERE type = 'ImagingStudy'").get() as { n: number }).n).toBe(8);
    await index.close();
    expect(db.open).toBe(true);
    db.close();

    const dir = tempDir();
    const own = new SqliteResourceIndex({ dataDir: dir, fhirVersion: 'R4' });
    // Closed first: the open index holds its file exclusively (no -shm mapping).
    await own.close();
    const check = new Database(join(dir, 'fhir-index.sqlite'), { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    check.close();
  });

  test('readJson and searchJson (what the index worker answers) give the stored JSON texts of read and search', async () => {
    const db = new Database(':memory:');
    const index = new SqliteResourceIndex({ db, fhirVersion: 'R4' });
    const resources = dataSet('R4');
    await index.put(resources);
    const study = resources.find((r) => r.resourceType === 'ImagingStudy')!;
    const stored = (db.prepare("SELECT j.json FROM fhir_resource r JOIN fhir_resource_json j USING (rid) WHERE r.type = 'ImagingStudy' AND r.id = ?").get(study.id) as { json: string }).json;
    expect(await index.readJson('ImagingStudy', study.id!)).toBe(stored);
    expect(await index.readJson('ImagingStudy', 'unknown')).toBeUndefined();

    const query: ParsedSearch = { where: [], sort: [{ param: '_id', descending: false }], count: 3, offset: 2 };
    const page = await index.searchJson('ImagingStudy', query);
    expect(page.json).toHaveLength(3);
    for (const text of page.json) expect(typeof text).toBe('string');
    expect({ total: page.total, resources: page.json.map((text) => JSON.parse(text)) }).toEqual(await index.search('ImagingStudy', query));
    expect(await index.searchJson('ImagingStudy', { ...query, count: 0 })).toEqual({ total: 8, json: [] });
    await index.close();
    db.close();
  });

  test('searches use the term indexes, not a scan', () => {
    const db = new Database(':memory:');
    const index = new SqliteResourceIndex({ db, fhirVersion: 'R4' });
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('\n');
    expect(plan("SELECT rid FROM fhir_term WHERE type = 'ImagingStudy' AND param = 'modality' AND code = 'CT'")).toMatch(/USING (COVERING )?INDEX fhir_term_code/);
    expect(plan("SELECT rid FROM fhir_term WHERE type = 'ImagingStudy' AND param = 'started' AND low >= 1 AND high <= 2")).toMatch(/USING (COVERING )?INDEX fhir_term_date/);
    void index.close();
    db.close();
  });
});
