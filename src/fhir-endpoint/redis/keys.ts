/**
 * Redis key names of the FHIR resource index (distributed mode), under the
 * same configurable prefix as the study store (default `dfb`).
 *
 * Every key starts with the hash tag `{<prefix>:fhir}`. Unlike the study
 * store's keys (tagged per study), the index's keys are not hash-tagged per
 * study: a search intersects sets of many studies and put() replaces a
 * resource's terms in one script, so on a Redis Cluster all of the index must
 * live in one slot. The single tag does that, trading distribution (the whole
 * index on one shard) for multi-key operations (SINTER/SUNION, Lua scripts).
 *
 *   {dfb:fhir}:<type>:<id>                      string: the resource JSON
 *   {dfb:fhir}:idx:<type>:<param>=<token>       set of ids: a token term, <token> one of
 *        <system>|<code>   <code> with that system
 *        |<code>           <code> without a system
 *        <code>            <code> with any system (or none)
 *        <system>|         any code with that system
 *        |                 any code without a system
 *     (`\` and `|` in system and code escaped with `\`, as in FHIR search values)
 *   {dfb:fhir}:idx:<type>:<param>               set of ids: any token of the parameter
 *   {dfb:fhir}:date:<type>:<param>:low|high     sorted set, member `<k>:<id>` (the k-th range of
 *                                               the parameter in the resource), score the low
 *                                               (inclusive) / high (exclusive) end in epoch ms
 *   {dfb:fhir}:all:<type>                       sorted set of every id, score 0 (id order)
 *   {dfb:fhir}:sort:<type>:started              sorted set of ids with `started`, score its low end
 *   {dfb:fhir}:terms:<type>:<id>                set: the resource's entries in the above
 *                                               (`s:<set key>`, `z:<k>:<sorted set key>`), so that
 *                                               put() and remove() can take them out
 *   {dfb:fhir}:tmp:<nonce>:<n>                  search intermediates (deleted by the search; 60 s expiry)
 *
 * Resource types start with an upper-case letter, so `<type>:<id>` never
 * collides with the lower-case namespaces; parameter names never contain `=`.
 */
import { DEFAULT_PREFIX } from '../../pipeline/redis/keys.js';

export { DEFAULT_PREFIX };

/** The hash-tagged base of every index key: `{<prefix>:fhir}`. */
export function indexBase(prefix: string = DEFAULT_PREFIX): string {
  return `{${prefix}:fhir}`;
}

/** FHIR search escaping of `\` and `|` (injective: the first unescaped `|` separates system and code). */
export function escapeTokenPart(value: string): string {
  return value.replace(/[\\|]/g, '\\$&');
}

export class IndexKeys {
  constructor(readonly base: string) {}

  resource(type: string, id: string): string {
    return `${this.base}:${type}:${id}`;
  }

  /** Prefix of resource keys of a type (the search script appends ids). */
  resourcePrefix(type: string): string {
    return `${this.base}:${type}:`;
  }

  /**
   * The set of a token match: `system` undefined = any system, null = no
   * system; `code` undefined = any code. Both undefined: any token of the parameter.
   */
  token(type: string, param: string, system: string | null | undefined, code: string | undefined): string {
    const head = `${this.base}:idx:${type}:${param}`;
    if (code === undefined) {
      if (system === undefined) return head;
      return system === null ? `${head}=|` : `${head}=${escapeTokenPart(system)}|`;
    }
    const c = escapeTokenPart(code);
    if (system === undefined) return `${head}=${c}`;
    return system === null ? `${head}=|${c}` : `${head}=${escapeTokenPart(system)}|${c}`;
  }

  /** The sets a token term (code, optional system) of a resource belongs to. */
  tokenTermSets(type: string, param: string, system: string | undefined, code: string): string[] {
    const s = system ?? null;
    return [this.token(type, param, s, code), this.token(type, param, undefined, code), this.token(type, param, s, undefined), this.token(type, param, undefined, undefined)];
  }

  dateLow(type: string, param: string): string {
    return `${this.base}:date:${type}:${param}:low`;
  }

  dateHigh(type: string, param: string): string {
    return `${this.base}:date:${type}:${param}:high`;
  }

  all(type: string): string {
    return `${this.base}:all:${type}`;
  }

  sortStarted(type: string): string {
    return `${this.base}:sort:${type}:started`;
  }

  terms(type: string, id: string): string {
    return `${this.base}:terms:${type}:${id}`;
  }

  tmpPrefix(nonce: string): string {
    return `${this.base}:tmp:${nonce}:`;
  }
}
