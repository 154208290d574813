/**
 * The Lua scripts of the Redis resource index (lua/*.lua), called through
 * one typed class that owns each script's KEYS and builds its ARGV. Key
 * names are computed here (keys.ts); the scripts only derive the keys they
 * cannot know beforehand (a resource's previous terms, the JSON of the
 * page's ids, the references to a chain's targets, search intermediates),
 * all under the same hash tag, hence in the same Cluster slot as KEYS[1].
 */
import type { Redis } from 'ioredis';
import { loadLuaScript, runLuaScript, type LuaScript } from '../../pipeline/redis/lua-script.js';
import type { IndexKeys } from './keys.js';

const LUA = new URL('./lua/', import.meta.url);
const SCRIPTS = {
  put: loadLuaScript(LUA, 'index-put-1.lua'),
  remove: loadLuaScript(LUA, 'index-remove-4.lua'),
  search: loadLuaScript(LUA, 'index-search-1.lua'),
} satisfies Record<string, LuaScript>;

/** One resource as put() stores it: its JSON and the index entries of its terms. */
export interface IndexedResource {
  resourceType: string;
  id: string;
  json: string;
  /** Low end of `started` (epoch ms), null when it has none. */
  started: number | null;
  /** The token term sets it belongs to. */
  sets: Iterable<string>;
  /** Its date terms: sorted set, score, and k (the k-th range of the parameter in the resource). */
  dates: { key: string; score: number; k: number }[];
}

export class IndexScripts {
  constructor(
    private readonly client: Redis,
    private readonly keys: IndexKeys,
  ) {}

  /** Replaces the resources (all of one batch, atomically); returns how many. */
  async put(resources: IndexedResource[]): Promise<number> {
    const args: string[] = [];
    for (const r of resources) {
      const sets = [...r.sets];
      args.push(
        this.keys.resource(r.resourceType, r.id),
        this.keys.terms(r.resourceType, r.id),
        this.keys.all(r.resourceType),
        this.keys.sortStarted(r.resourceType),
        r.id,
        r.json,
        r.started === null ? '' : String(r.started),
        String(sets.length),
        ...sets,
        String(r.dates.length),
        ...r.dates.flatMap((d) => [d.key, String(d.score), String(d.k)]),
      );
    }
    return Number(await runLuaScript(this.client, SCRIPTS.put, [this.keys.all(resources[0]!.resourceType)], args));
  }

  async remove(resourceType: string, id: string): Promise<void> {
    const k = this.keys;
    await runLuaScript(
      this.client,
      SCRIPTS.remove,
      [k.resource(resourceType, id), k.terms(resourceType, id), k.all(resourceType), k.sortStarted(resourceType)],
      [id],
    );
  }

  /** Runs a search plan (JSON) over one type: the total and the page's resource JSON ('' for a missing one). */
  async search(resourceType: string, planJson: string): Promise<{ total: number; page: string[] }> {
    const reply = (await runLuaScript(this.client, SCRIPTS.search, [this.keys.all(resourceType)], [planJson])) as [number, ...string[]];
    const [total, ...page] = reply;
    return { total: Number(total), page };
  }
}
