/**
 * Problem lines of an invalid configuration: every line names the key, its
 * environment variable (or says it is YAML only), the value at fault and
 * what the key allows. What a key allows comes from the schema: its
 * `.describe()` text, else what its type says (enum values, number range,
 * true or false).
 */
import { z, type ZodIssue, type ZodTypeAny } from 'zod';
import { ENVIRONMENT_KEYS, type EnvironmentKey } from './environment.js';
import { SECRET_KEY } from './mask.js';
import { configSchema } from './schema.js';

type Path = ReadonlyArray<string | number>;

/** The environment variable of a key: the one whose YAML path is the longest prefix of it. */
export function environmentKeyOf(path: Path): EnvironmentKey | undefined {
  const dotted = path.join('.');
  let best: EnvironmentKey | undefined;
  for (const key of ENVIRONMENT_KEYS) {
    if ((dotted === key.path || dotted.startsWith(`${key.path}.`)) && (!best || key.path.length > best.path.length)) best = key;
  }
  return best;
}

/** Unwraps default, optional, nullable and effects (preprocess, refine, transform) down to the type. */
function core(schema: ZodTypeAny): { schema: ZodTypeAny; description: string | undefined } {
  let s = schema;
  let description = s.description;
  for (;;) {
    if (s instanceof z.ZodDefault) s = s._def.innerType;
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s._def.innerType;
    else if (s instanceof z.ZodEffects) s = s._def.schema;
    else break;
    description ??= s.description;
  }
  return { schema: s, description };
}

/** The schema of the key at `path` (array items by index, record values by any key); undefined when there is none. */
export function schemaAt(path: Path, root: ZodTypeAny = configSchema): ZodTypeAny | undefined {
  let s: ZodTypeAny | undefined = root;
  for (const segment of path) {
    if (!s) return undefined;
    const { schema } = core(s);
    if (schema instanceof z.ZodObject) s = (schema.shape as Record<string, ZodTypeAny>)[String(segment)];
    else if (schema instanceof z.ZodArray) s = schema.element as ZodTypeAny;
    else if (schema instanceof z.ZodRecord) s = schema._def.valueType as ZodTypeAny;
    else return undefined;
  }
  return s;
}

function numberRange(schema: z.ZodNumber): string {
  let integer = false;
  let min: number | undefined;
  let max: number | undefined;
  for (const check of schema._def.checks) {
    if (check.kind === 'int') integer = true;
    if (check.kind === 'min') min = check.inclusive ? check.value : integer ? check.value + 1 : check.value;
    if (check.kind === 'max') max = check.inclusive ? check.value : integer ? check.value - 1 : check.value;
  }
  const what = integer ? 'an integer' : 'a number';
  if (min !== undefined && max !== undefined) return `${what} from ${min} to ${max}`;
  if (min !== undefined) return `${what}, at least ${min}`;
  if (max !== undefined) return `${what}, at most ${max}`;
  return what;
}

/** Every key of the schema down to its values: array items as index 0, record entries as key 'KEY'. */
export function leafPaths(schema: ZodTypeAny = configSchema, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const { schema: s } = core(schema);
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, ZodTypeAny>).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
  }
  if (s instanceof z.ZodArray) return leafPaths(s.element as ZodTypeAny, [...prefix, 0]);
  if (s instanceof z.ZodRecord) return leafPaths(s._def.valueType as ZodTypeAny, [...prefix, 'KEY']);
  return [prefix];
}

/** What the schema allows, in words. */
export function describeAllowed(schema: ZodTypeAny): string {
  const { schema: s, description } = core(schema);
  if (description) return description;
  if (s instanceof z.ZodEnum) return `one of ${(s.options as string[]).join(', ')}`;
  if (s instanceof z.ZodBoolean) return 'true or false';
  if (s instanceof z.ZodNumber) return numberRange(s);
  if (s instanceof z.ZodArray) return `a list of ${describeAllowed(s.element as ZodTypeAny)}`;
  if (s instanceof z.ZodRecord) return `a mapping to ${describeAllowed(s._def.valueType as ZodTypeAny)}`;
  if (s instanceof z.ZodObject) return `a mapping with the keys ${Object.keys(s.shape as object).join(', ')}`;
  if (s instanceof z.ZodString) return 'text';
  return 'see config/bridge.example.yaml';
}

function valueAt(raw: unknown, path: Path): unknown {
  let v = raw;
  for (const segment of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[String(segment)];
  }
  return v;
}

/** The value at fault, quoted; secrets are never shown. */
function shown(raw: unknown, path: Path): string {
  const value = valueAt(raw, path);
  // Secrets, and extra headers (often credentials), are never shown.
  if (path.some((segment) => SECRET_KEY.test(String(segment)) || segment === 'headers')) return 'the value';
  if (value === undefined) return 'the value';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `'${text.length > 60 ? `${text.slice(0, 57)}...` : text}'`;
}

/** `dicom.aeTitles.0 (DICOM_AET, item 1)`, `peers.0.host (YAML only)`. */
export function whereOf(path: Path): string {
  const dotted = path.join('.') || '(root)';
  const env = environmentKeyOf(path);
  const index = path.findIndex((segment) => typeof segment === 'number');
  const item = index >= 0 ? `item ${Number(path[index]) + 1}` : undefined;
  if (!env) return `${dotted} (YAML only${item ? `, ${item}` : ''})`;
  return `${dotted} (${env.env}${item && env.kind === 'list' ? `, ${item}` : ''})`;
}

/** One problem line of a Zod issue; `raw` is the configuration as read (file plus environment). */
export function describeIssue(issue: ZodIssue, raw: unknown): string {
  const path = issue.path;
  const dotted = path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') return `${dotted}: unknown key(s) ${issue.keys.join(', ')}`;
  const where = whereOf(path);
  // Checks across keys, and file checks, say everything themselves.
  if (issue.code === 'custom' && (issue.params as { selfContained?: boolean } | undefined)?.selfContained) return `${where}: ${issue.message}`;
  // A record's bad key is reported at the key's path, like a bad value.
  const parent = path.length > 0 ? schemaAt(path.slice(0, -1)) : undefined;
  const record = parent ? core(parent).schema : undefined;
  if (record instanceof z.ZodRecord && !(record._def.keyType as ZodTypeAny).safeParse(path[path.length - 1]).success) {
    return `${where}: key '${String(path[path.length - 1])}' is not allowed; allowed: ${describeAllowed(record._def.keyType as ZodTypeAny)}`;
  }
  const schema = schemaAt(path);
  const allowed = schema ? `; allowed: ${describeAllowed(schema)}` : '';
  if (issue.code === 'custom') return `${where}: ${issue.message}${allowed}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${where}: is required${allowed}`;
  // The enum's values are what is allowed: said once.
  if (issue.code === 'invalid_enum_value') return `${where}: must be one of ${issue.options.join(', ')}`;
  const value = shown(raw, path);
  let problem = `${value} is not allowed`;
  if ((issue.code === 'too_big' || issue.code === 'too_small') && issue.type === 'string') {
    problem = issue.code === 'too_small' && issue.minimum === 1 ? 'is empty' : `${value} is too ${issue.code === 'too_big' ? 'long' : 'short'}`;
  }
  if (issue.code === 'invalid_string' && issue.message !== 'Invalid') problem = `${value}: ${issue.message}`;
  if ((issue.code === 'too_big' || issue.code === 'too_small') && issue.type === 'array') {
    problem = issue.code === 'too_small' ? `needs at least ${String(issue.minimum)} item(s)` : `has more than ${String(issue.maximum)} item(s)`;
  }
  return `${where}: ${problem}${allowed}`;
}
