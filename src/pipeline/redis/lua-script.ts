/**
 * Lua scripts kept as `.lua` files, as BullMQ keeps its own: one file per
 * script, named `<command>-<numberOfKeys>.lua`, opening with a header that
 * names its KEYS, ARGV and result. A line `--- @include "<path>"` is
 * replaced by that file (relative to the script's folder, `.lua` added),
 * each at most once per script. Read once, when the module that needs them
 * is loaded (`npm run build` copies them to dist/: scripts/copy-lua.mjs); run with EVALSHA,
 * falling back to EVAL when the server does not have the script yet.
 */
import { errorMessage } from '../../errors.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export interface LuaScript {
  /** File name without `-<numberOfKeys>.lua`, e.g. `merge-instances`. */
  readonly name: string;
  readonly numberOfKeys: number;
  /** The source with its includes resolved. */
  readonly lua: string;
  readonly sha1: string;
}

const INCLUDE = /^---\s*@include\s+"([^"]+)"\s*$/gm;

/** Reads `<folder>/<file>` (e.g. `merge-instances-6.lua`) and resolves its includes. */
export function loadLuaScript(folder: URL, file: string): LuaScript {
  const match = /^(.+)-(\d+)\.lua$/.exec(file);
  if (!match) throw new Error(`Lua script ${file}: the name must be <command>-<numberOfKeys>.lua`);
  const included = new Set<string>();
  const resolve = (text: string, from: string): string =>
    text.replace(INCLUDE, (_line, target: string) => {
      if (included.has(target)) return '';
      included.add(target);
      const url = new URL(`${target}.lua`, folder);
      try {
        return resolve(readFileSync(url, 'utf8'), target);
      } catch (err) {
        throw new Error(`Lua script ${from}: cannot include ${target} (${errorMessage(err)})`);
      }
    });
  const lua = resolve(readFileSync(new URL(file, folder), 'utf8'), file);
  return { name: match[1]!, numberOfKeys: Number(match[2]), lua, sha1: createHash('sha1').update(lua).digest('hex') };
}

/** Runs a script: EVALSHA, and EVAL once when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH). */
export async function runLuaScript(client: Redis, script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
    throw new Error(`Lua script ${script.name} takes ${script.numberOfKeys} keys, given ${keys.length}`);
  }
  try {
    return await client.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}
