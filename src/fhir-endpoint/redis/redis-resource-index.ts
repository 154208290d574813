/**
 * ResourceIndex on Redis (distributed mode): every bridge process answers
 * the built-in FHIR endpoint from the same index. Same semantics as the
 * SQLite index (sqlite-index/): the same index terms (index-terms.ts), token
 * forms, date prefixes over [low, high) ranges, sort keys and paging.
 *
 * Layout (keys.ts): the resource JSON in a string; each token term in sets of
 * ids (with its system, without it, system only, parameter only); each date
 * term in two sorted sets scored by the low and high end, so prefixes become
 * ZRANGEBYSCORE ranges; per type a sorted set of all ids (id order, paging)
 * and one of `started` (sort). The Lua scripts are lua/*.lua, called
 * through IndexScripts (index-scripts.ts). put() is one Lua script: it takes out the old
 * terms listed in the resource's term set and adds the new ones, for the
 * whole batch atomically. A search is one Lua script: SUNIONSTORE/SINTERSTORE
 * over the term sets (temporary keys, 60 s expiry, deleted at the end), then
 * the page in sort order from ZINTERSTORE/ZDIFFSTORE with the sort sets; no
 * scan of every resource (except what a date range itself selects).
 *
 * Cluster: all keys carry the one hash tag `{<prefix>:fhir}` (not a tag per
 * study as the study store's keys), so the whole index lives in one slot —
 * needed for the multi-key scripts, at the cost of not spreading it over shards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { indexTerms, sortStarted } from '../index-terms.js';
import { logConnectionErrors } from '../../pipeline/redis/connection-errors.js';
import { quitOrDisconnect } from '../../pipeline/redis/study-store.js';
import { deterministicId } from '../../fhir/resource-ids.js';
import type {
  DatePrefix,
  FhirResource,
  ParsedSearch,
  ResourceIndex,
  ResourceIndexOptions,
  SearchMatch,
  SearchResult,
} from '../resource-index.js';
import { DEFAULT_PREFIX, IndexKeys, indexBase } from './keys.js';
import { IndexScripts, type IndexedResource } from './index-scripts.js';

export interface RedisResourceIndexOptions extends ResourceIndexOptions {
  /**
   * An ioredis client (not closed by close()), or a `redis://` / `rediss://`
   * URL to connect to (the index owns that connection and closes it).
   */
  client: Redis | string;
  /** Key prefix, as the study store's (default `dfb`): keys are `{<prefix>:fhir}:…`. */
  prefix?: string;
  /** Connection errors of an owned client (logged at most every 10 s). */
  logger?: Logger;
}

/** One match of the search plan (what the search script evaluates). */
type PlanMatch =
  | { t: 'set'; key: string }
  | { t: 'id'; id: string }
  | { t: 'date'; low: string; high: string; prefix: DatePrefix; pl: string; ph: string }
  | { t: 'chain'; target: string; ref: string };

/** The search script's input (JSON). */
interface SearchPlan {
  tmp: string;
  res: string;
  sort: string;
  groups: PlanMatch[][];
  order: { by: 'id'; desc: boolean } | { by: 'started'; desc: boolean; idDesc: boolean };
  count: number;
  offset: number;
}

/** ORDER BY of the SQLite index (each key, then id) as the script's two-level order. */
function orderOf(sort: ParsedSearch['sort']): SearchPlan['order'] {
  const first = sort[0];
  if (!first) return { by: 'id', desc: false };
  if (first.param === '_id') return { by: 'id', desc: first.descending };
  const byId = sort.find((s) => s.param === '_id');
  return { by: 'started', desc: first.descending, idDesc: byId?.descending ?? false };
}

export class RedisResourceIndex implements ResourceIndex {
  private readonly client: Redis;
  private readonly scripts: IndexScripts;
  private readonly ownsClient: boolean;
  private readonly keys: IndexKeys;
  private readonly timezone: string;
  private closed = false;

  constructor(private readonly options: RedisResourceIndexOptions) {
    if (typeof options.client === 'string') {
      this.client = new Redis(options.client, {
        maxRetriesPerRequest: 1,
        retryStrategy: (times: number) => Math.min(100 * times, 2000),
        connectionName: `${options.prefix ?? DEFAULT_PREFIX}:fhir-index`,
      });
      this.ownsClient = true;
      if (options.logger) logConnectionErrors(this.client, options.logger, 'redis connection error (FHIR index)');
      else this.client.on('error', () => undefined); // no logger given: the command that fails says why
    } else {
      this.client = options.client;
      this.ownsClient = false;
    }
    this.keys = new IndexKeys(indexBase(options.prefix ?? DEFAULT_PREFIX));
    this.timezone = options.timezone ?? 'UTC';
    this.scripts = new IndexScripts(this.client, this.keys);
  }

  async put(resources: FhirResource[]): Promise<void> {
    this.assertOpen();
    if (resources.length === 0) return;
    // Everything computed before anything is sent: a bad resource changes nothing.
    const indexed: IndexedResource[] = [];
    for (const resource of resources) {
      const id = resource.id ?? deterministicId(resource);
      if (!id) throw new Error(`${resource.resourceType} without id and nothing to derive one from`);
      // id right after resourceType, as the specification orders elements.
      const { resourceType: type, id: _given, ...rest } = resource;
      const stored: FhirResource = { resourceType: type, id, ...rest };
      const started = sortStarted(stored, this.timezone);
      const sets = new Set<string>();
      const dates: IndexedResource['dates'] = [];
      const dateCount = new Map<string, number>();
      for (const t of indexTerms(stored, this.options.fhirVersion, this.timezone)) {
        if (t.code !== undefined) {
          for (const key of this.keys.tokenTermSets(type, t.param, t.system, t.code)) sets.add(key);
        } else if (t.low !== undefined && t.high !== undefined) {
          const k = dateCount.get(t.param) ?? 0;
          dateCount.set(t.param, k + 1);
          dates.push({ key: this.keys.dateLow(type, t.param), score: t.low, k });
          dates.push({ key: this.keys.dateHigh(type, t.param), score: t.high, k });
        }
      }
      indexed.push({ resourceType: type, id, json: JSON.stringify(stored), started, sets, dates });
    }
    await this.scripts.put(indexed);
  }

  async remove(resourceType: string, id: string): Promise<void> {
    this.assertOpen();
    await this.scripts.remove(resourceType, id);
  }

  async read(resourceType: string, id: string): Promise<FhirResource | undefined> {
    this.assertOpen();
    const json = await this.client.get(this.keys.resource(resourceType, id));
    return json === null ? undefined : (JSON.parse(json) as FhirResource);
  }

  async search(resourceType: string, query: ParsedSearch): Promise<SearchResult> {
    this.assertOpen();
    const plan: SearchPlan = {
      tmp: this.keys.tmpPrefix(randomUUID()),
      res: this.keys.resourcePrefix(resourceType),
      sort: this.keys.sortStarted(resourceType),
      groups: query.where.filter((any) => any.length > 0).map((any) => any.map((m) => this.planMatch(resourceType, m))),
      order: orderOf(query.sort),
      count: Math.max(0, Math.floor(query.count)),
      offset: Math.max(0, Math.floor(query.offset)),
    };
    const { total, page } = await this.scripts.search(resourceType, JSON.stringify(plan));
    return { total, resources: page.filter((json) => json !== '').map((json) => JSON.parse(json) as FhirResource) };
  }

  private planMatch(type: string, m: SearchMatch): PlanMatch {
    switch (m.kind) {
      case 'id':
        return { t: 'id', id: m.id };
      case 'token':
        return { t: 'set', key: this.keys.token(type, m.param, m.system, m.code) };
      case 'date':
        // Scores as strings: exact in Lua (numbers there print with 14 digits).
        return {
          t: 'date',
          low: this.keys.dateLow(type, m.param),
          high: this.keys.dateHigh(type, m.param),
          prefix: m.prefix,
          pl: String(m.low),
          ph: String(m.high),
        };
      case 'chain':
        // References to each matching target: `Type/id` tokens, any system (as the SQLite index).
        return {
          t: 'chain',
          target: this.keys.token(m.target.resourceType, m.target.param, m.target.system, m.target.code),
          ref: this.keys.token(type, m.param, undefined, `${m.target.resourceType}/`),
        };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await quitOrDisconnect(this.client);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('resource index is closed');
  }
}
