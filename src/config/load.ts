import { errorMessage } from '../errors.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describeAllowed, describeIssue, schemaAt, whereOf } from './describe.js';
import { ENVIRONMENT_KEYS, type EnvironmentKey } from './environment.js';
import { configSchema, type BridgeConfig } from './schema.js';

/** Configuration that cannot be used: one line per problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** YAML file; also taken from BRIDGE_CONFIG. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function envValue(key: EnvironmentKey, text: string, problems: string[]): unknown {
  switch (key.kind) {
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'number':
      return text.trim();
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        const path = key.path.split('.');
        const schema = schemaAt(path);
        const allowed = schema ? `; allowed: ${describeAllowed(schema)}` : '';
        problems.push(`${whereOf(path)}: not valid JSON (${errorMessage(err)})${allowed}`);
        return undefined;
      }
    case 'string':
      return text.trim();
  }
}

/** Reads the YAML file (if any), applies environment overrides, validates. */
export function loadConfig(options: LoadOptions = {}): BridgeConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.BRIDGE_CONFIG;
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
    try {
      const parsed: unknown = parseYaml(text);
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be a mapping');
        raw = parsed as Record<string, unknown>;
      }
    } catch (err) {
      throw new ConfigError([`${file}: not valid YAML (${errorMessage(err).split('\n')[0]})`]);
    }
  }
  for (const key of ENVIRONMENT_KEYS) {
    const text = env[key.env];
    if (text === undefined || text === '') continue;
    const value = envValue(key, text, problems);
    if (value !== undefined) setPath(raw, key.path, value);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) problems.push(...result.error.issues.map((issue) => describeIssue(issue, raw)));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}
