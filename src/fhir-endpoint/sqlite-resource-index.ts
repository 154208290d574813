/**
 * ResourceIndex on SQLite: `<dataDir>/fhir-index.sqlite` (WAL), or tables in
 * a better-sqlite3 Database passed in. Its statements run in the thread that
 * calls it: the bridge runs it in a worker thread of its own
 * (sqlite-index-worker.ts, called through remote-resource-index.ts), off the event loop.
 *
 * fhir_resource: one narrow row per (type, id) with the sort key (low end
 * of `started`, epoch ms); fhir_resource_json: its JSON. fhir_term: one row per index term
 * (resource row, type, param, system, code, low, high), indexed on
 * (type, param, code, system, rid) and (type, param, low, high, rid) (covering). A search is one
 * SELECT with an `rid IN (… UNION …)` subquery per AND-ed parameter, answered
 * from those indexes; the page is sorted on narrow columns, then its JSON loaded. put() replaces a resource and its terms in one transaction.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { indexTerms, sortStarted } from './index-terms.js';
import { deterministicId } from '../fhir/resource-ids.js';
import type {
  FhirResource,
  ParsedSearch,
  ResourceIndex,
  ResourceIndexOptions,
  SearchMatch,
  SearchResult,
} from './resource-index.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS fhir_resource (
  rid          INTEGER PRIMARY KEY,
  type         TEXT NOT NULL,
  id           TEXT NOT NULL,
  sort_started INTEGER,
  UNIQUE (type, id)
);
CREATE TABLE IF NOT EXISTS fhir_resource_json (
  rid  INTEGER PRIMARY KEY,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fhir_term (
  rid    INTEGER NOT NULL,
  type   TEXT NOT NULL,
  param  TEXT NOT NULL,
  system TEXT,
  code   TEXT,
  low    INTEGER,
  high   INTEGER
);
CREATE INDEX IF NOT EXISTS fhir_term_code ON fhir_term (type, param, code, system, rid);
CREATE INDEX IF NOT EXISTS fhir_term_date ON fhir_term (type, param, low, high, rid);
CREATE INDEX IF NOT EXISTS fhir_term_rid ON fhir_term (rid);
`;

export interface SqliteResourceIndexOptions extends ResourceIndexOptions {
  /** An open database to create the tables in (not closed by close()) … */
  db?: Database.Database;
  /** … or the directory of `fhir-index.sqlite` (created if missing). */
  dataDir?: string;
}

/** A SearchResult whose page is the resources' stored JSON texts, not yet parsed. */
export interface JsonSearchResult {
  total: number;
  json: string[];
}

type Sql = { sql: string; params: unknown[] };

/** Longest search SQL kept prepared (a few OR-ed values per parameter; SEARCH_LIMITS allow far more). */
const MAX_CACHED_SQL = 8192;

function tokenSql(type: string, param: string, system: string | null | undefined, code: string | undefined): Sql {
  const params: unknown[] = [type, param];
  let sql = 'type = ? AND param = ?';
  if (code !== undefined) {
    sql += ' AND code = ?';
    params.push(code);
  } else sql += ' AND code IS NOT NULL';
  if (system === null) sql += ' AND system IS NULL';
  else if (system !== undefined) {
    sql += ' AND system = ?';
    params.push(system);
  }
  return { sql, params };
}

/** search.html date prefixes over [low, high) ranges: search [pl, ph), target [low, high). */
function dateSql(prefix: string, pl: number, ph: number): Sql {
  switch (prefix) {
    case 'ne':
      return { sql: 'NOT (low >= ? AND high <= ?)', params: [pl, ph] };
    case 'gt':
      return { sql: 'high > ?', params: [ph] };
    case 'lt':
      return { sql: 'low < ?', params: [pl] };
    case 'ge':
      return { sql: '(high > ? OR (low >= ? AND high <= ?))', params: [ph, pl, ph] };
    case 'le':
      return { sql: '(low < ? OR (low >= ? AND high <= ?))', params: [pl, pl, ph] };
    case 'sa':
      return { sql: 'low >= ?', params: [ph] };
    case 'eb':
      return { sql: 'high <= ?', params: [pl] };
    case 'eq':
    default:
      // `low < ph` follows from high <= ph; it bounds the index range.
      return { sql: 'low >= ? AND low < ? AND high <= ?', params: [pl, ph, ph] };
  }
}

/** A subquery of the rids (of `type`) that one match selects. */
function matchSql(type: string, m: SearchMatch): Sql {
  switch (m.kind) {
    case 'id':
      return { sql: 'SELECT rid FROM fhir_resource WHERE type = ? AND id = ?', params: [type, m.id] };
    case 'token': {
      const t = tokenSql(type, m.param, m.system, m.code);
      return { sql: `SELECT rid FROM fhir_term WHERE ${t.sql}`, params: t.params };
    }
    case 'date': {
      const d = dateSql(m.prefix, m.low, m.high);
      return {
        sql: `SELECT rid FROM fhir_term WHERE type = ? AND param = ? AND low IS NOT NULL AND ${d.sql}`,
        params: [type, m.param, ...d.params],
      };
    }
    case 'chain': {
      const t = tokenSql(m.target.resourceType, m.target.param, m.target.system, m.target.code);
      return {
        sql:
          'SELECT rid FROM fhir_term WHERE type = ? AND param = ? AND code IN ' +
          `(SELECT ? || t2r.id FROM fhir_term t2 JOIN fhir_resource t2r ON t2r.rid = t2.rid WHERE ${t.sql.replace(/\b(type|param|code|system)\b/g, 't2.$1')})`,
        params: [type, m.param, `${m.target.resourceType}/`, ...t.params],
      };
    }
  }
}

export class SqliteResourceIndex implements ResourceIndex {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly timezone: string;
  private closed = false;
  private readonly stmts;
  /** Prepared search statements by SQL text (the shapes of searches repeat). */
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly options: SqliteResourceIndexOptions) {
    if (options.db) {
      this.db = options.db;
      this.ownsDb = false;
    } else {
      if (!options.dataDir) throw new Error('SqliteResourceIndex needs db or dataDir');
      mkdirSync(options.dataDir, { recursive: true });
      this.db = new Database(path.join(options.dataDir, 'fhir-index.sqlite'));
      this.ownsDb = true;
      // No memory-mapped -shm file (a SIGBUS when DATA_DIR loses write permission): pipeline/sqlite/database.ts.
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
    }
    this.timezone = options.timezone ?? 'UTC';
    this.db.exec(SCHEMA);
    this.stmts = {
      upsert: this.db.prepare(
        `INSERT INTO fhir_resource (type, id, sort_started) VALUES (?, ?, ?)
         ON CONFLICT (type, id) DO UPDATE SET sort_started = excluded.sort_started
         RETURNING rid`,
      ),
      putJson: this.db.prepare('INSERT OR REPLACE INTO fhir_resource_json (rid, json) VALUES (?, ?)'),
      deleteJson: this.db.prepare('DELETE FROM fhir_resource_json WHERE rid = ?'),
      deleteTerms: this.db.prepare('DELETE FROM fhir_term WHERE rid = ?'),
      insertTerm: this.db.prepare('INSERT INTO fhir_term (rid, type, param, system, code, low, high) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      ridOf: this.db.prepare('SELECT rid FROM fhir_resource WHERE type = ? AND id = ?'),
      deleteResource: this.db.prepare('DELETE FROM fhir_resource WHERE rid = ?'),
      read: this.db.prepare(
        'SELECT j.json FROM fhir_resource r JOIN fhir_resource_json j ON j.rid = r.rid WHERE r.type = ? AND r.id = ?',
      ),
      jsonByRid: this.db.prepare('SELECT json FROM fhir_resource_json WHERE rid = ?'),
    };
  }

  private readonly putAll = (resources: FhirResource[]): void => {
    this.db.transaction(() => {
      for (const resource of resources) {
        const id = resource.id ?? deterministicId(resource);
        if (!id) throw new Error(`${resource.resourceType} without id and nothing to derive one from`);
        // id right after resourceType, as the specification orders elements.
        const { resourceType, id: _given, ...rest } = resource;
        const stored: FhirResource = { resourceType, id, ...rest };
        const { rid } = this.stmts.upsert.get(stored.resourceType, id, sortStarted(stored, this.timezone)) as { rid: number };
        this.stmts.putJson.run(rid, JSON.stringify(stored));
        this.stmts.deleteTerms.run(rid);
        for (const t of indexTerms(stored, this.options.fhirVersion, this.timezone)) {
          this.stmts.insertTerm.run(rid, stored.resourceType, t.param, t.system ?? null, t.code ?? null, t.low ?? null, t.high ?? null);
        }
      }
    })();
  };

  async put(resources: FhirResource[]): Promise<void> {
    this.assertOpen();
    this.putAll(resources);
  }

  async remove(resourceType: string, id: string): Promise<void> {
    this.assertOpen();
    this.db.transaction(() => {
      const row = this.stmts.ridOf.get(resourceType, id) as { rid: number } | undefined;
      if (!row) return;
      this.stmts.deleteTerms.run(row.rid);
      this.stmts.deleteJson.run(row.rid);
      this.stmts.deleteResource.run(row.rid);
    })();
  }

  async read(resourceType: string, id: string): Promise<FhirResource | undefined> {
    const json = await this.readJson(resourceType, id);
    return json === undefined ? undefined : (JSON.parse(json) as FhirResource);
  }

  async search(resourceType: string, query: ParsedSearch): Promise<SearchResult> {
    const { total, json } = await this.searchJson(resourceType, query);
    return { total, resources: json.map((text) => JSON.parse(text) as FhirResource) };
  }

  /** read() as the stored JSON text: what the index worker answers (remote-resource-index.ts). */
  async readJson(resourceType: string, id: string): Promise<string | undefined> {
    this.assertOpen();
    const row = this.stmts.read.get(resourceType, id) as { json: string } | undefined;
    return row?.json;
  }

  /** search() with the page as the stored JSON texts: what the index worker answers (remote-resource-index.ts). */
  async searchJson(resourceType: string, query: ParsedSearch): Promise<JsonSearchResult> {
    this.assertOpen();
    // Each AND-ed parameter is `rid IN (<OR-ed subqueries, UNION>)`, answered from the term indexes.
    const where: string[] = [];
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const any of query.where) {
      if (any.length === 0) continue;
      const parts = any.map((m) => matchSql(resourceType, m));
      const union = parts.map((p) => p.sql).join(' UNION ');
      where.push(`r.rid IN (${union})`);
      sets.push(parts.length > 1 ? `SELECT * FROM (${union})` : union);
      for (const p of parts) params.push(...p.params);
    }
    if (where.length === 0) {
      where.push('r.type = ?');
      sets.push('SELECT rid FROM fhir_resource WHERE type = ?');
      params.push(resourceType);
    }
    const whereSql = where.join(' AND ');
    // The total straight from the term indexes (INTERSECT of the AND-ed rid sets).
    // INTERSECT yields distinct rids; a single set may not (a study with CT and PT matches `DCM|` twice).
    const matches = sets.length === 1 ? `SELECT DISTINCT * FROM (${sets[0]})` : sets.join(' INTERSECT ');
    const { n } = this.prepared(`SELECT count(*) AS n FROM (${matches})`).get(...params) as { n: number };
    if (query.count <= 0 || query.offset >= n) return { total: n, json: [] };
    const order = query.sort
      .map((s) => (s.param === 'started' ? `r.sort_started IS NULL, r.sort_started${s.descending ? ' DESC' : ''}` : `r.id${s.descending ? ' DESC' : ''}`))
      .concat('r.id')
      .join(', ');
    // Sort and page on the narrow columns, then load the page's JSON by rid.
    const rids = this.prepared(`SELECT r.rid FROM fhir_resource r WHERE ${whereSql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .pluck()
      .all(...params, query.count, query.offset) as number[];
    const json = rids.map((rid) => (this.stmts.jsonByRid.get(rid) as { json: string }).json);
    return { total: n, json };
  }

  private prepared(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      // A search with many values is a large statement: kept, 256 of them would hold a lot of memory.
      if (sql.length <= MAX_CACHED_SQL) {
        if (this.cache.size >= 256) this.cache.clear();
        this.cache.set(sql, stmt);
      }
    }
    return stmt;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDb) this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('resource index is closed');
  }
}
