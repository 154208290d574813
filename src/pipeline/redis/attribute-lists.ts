/**
 * The attribute lists of the Redis study store (lua/includes/attribute-lists.lua):
 * the values of one level with the precedence of each, so that the Lua merge
 * compares and replaces them attribute by attribute (merge.ts
 * mergeAttributes) without parsing JSON. Here: the incoming form the scripts
 * take, and the stored form read back into attributes.
 */
import { canonicalJson, isAbsent } from '../merge.js';

const RS = '\x1e';
const US = '\x1f';

/** `name US json RS ...` of the present values of `attributes` (canonical JSON). */
export function incomingList(attributes: object): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(attributes)) {
    if (!isAbsent(value)) parts.push(`${name}${US}${canonicalJson(value)}`);
  }
  return parts.join(RS);
}

/** The attributes of a stored list; a JSON object (stored before lists) as it is. */
export function storedAttributes<T>(stored: string | undefined): T {
  if (stored === undefined || stored === '') return {} as T;
  if (stored.startsWith('{')) return JSON.parse(stored) as T;
  const out: Record<string, unknown> = {};
  const entries = stored.split(RS);
  for (let i = 1; i < entries.length; i++) {
    const entry = entries[i]!;
    const first = entry.indexOf(US);
    const second = entry.indexOf(US, first + 1);
    out[entry.slice(0, first)] = JSON.parse(entry.slice(second + 1));
  }
  return out as T;
}
