/**
 * Which ImagingStudy elements the bridge owns, per FHIR version, and the pure
 * merge that writes the bridge's elements into a resource another client may
 * have edited (architecture.md step 3; issue "A publisher FHIR servers can trust").
 *
 * Derived from the conformance table (conformance.ts): every top-level element
 * a row names is owned. Three kinds of ownership:
 * - whole: the element is the bridge's (e.g. `started`, `subject`, `numberOfInstances`);
 *   the generated value replaces the server's, and an owned element the bridge no
 *   longer generates is removed.
 * - members: an array the bridge shares with others (`identifier`, `basedOn`,
 *   `endpoint`). Members the bridge writes are matched by the row's filter
 *   (e.g. `identifier[system=urn:dicom:uid]`) or by being one the bridge wrote
 *   before; every other member is kept.
 * - keyed: `series` and `series.instance` are matched by `uid`; the members are
 *   what the bridge received (series or instances it did not receive are
 *   dropped), their owned sub-elements are the bridge's, other sub-elements
 *   (e.g. a series `extension`) are kept.
 * Everything else (`note`, `encounter`, `extension`, `meta.tag`, `text`, ...)
 * is kept as the server has it; `meta.versionId` and `meta.lastUpdated` are
 * left for the server to set.
 */
import { CONFORMANCE, FHIR_VERSIONS, selectPath } from './conformance.js';
import type { FhirVersion } from './mapping-options.js';
import type { FhirResource } from './types/resource.js';

/** Arrays shared with other writers: only members matching a filter (or written before) are the bridge's. */
const SHARED_ARRAYS = new Set(['identifier', 'basedOn', 'endpoint']);
/**
 * A conformance row naming a shared array without a filter (STU3 `identifier`,
 * `basedOn`, `endpoint`) owns the members this filter selects; none: only
 * members the bridge generates or generated before.
 */
const BARE_FILTER: Readonly<Record<string, string | undefined>> = {
  identifier: 'identifier[!system][!type]',
  basedOn: 'basedOn[identifier.type.coding.code=ACSN]',
  endpoint: undefined,
};
/**
 * Whole elements the bridge owns only when it writes them: `location` is written when configured
 * (FHIR_LOCATION) and known from the DICOM; otherwise a location another client set is kept.
 */
const OWNED_WHEN_WRITTEN = new Set(['location']);
/** Nested arrays matched by key. */
const KEYED: Readonly<Record<string, string>> = { series: 'uid', 'series.instance': 'uid' };

export interface OwnedElements {
  /** Top-level elements the bridge writes entirely. */
  whole: string[];
  /** Top-level arrays shared with others, with the filters (conformance paths) that select the bridge's members. */
  shared: Record<string, string[]>;
  /** Owned sub-elements of keyed arrays: `series` → [uid, number, ...], `series.instance` → [...]. */
  keyed: Record<string, string[]>;
}

function topName(path: string): string {
  return /^[A-Za-z][A-Za-z0-9]*/.exec(path)?.[0] ?? path;
}

/** The owned elements of an ImagingStudy of `version`, derived from CONFORMANCE. */
export function ownedElements(version: FhirVersion): OwnedElements {
  const whole = new Set<string>();
  const shared: Record<string, string[]> = {};
  const keyed: Record<string, Set<string>> = { series: new Set(['uid']), 'series.instance': new Set(['uid']) };
  for (const row of CONFORMANCE) {
    const path = row.element[version];
    if (path === undefined) continue;
    const plain = path.replace(/\[[^\]]*\]/g, '');
    const parts = plain.split('.');
    const top = topName(path);
    if (top === 'series') {
      if (parts.length === 2) keyed.series!.add(parts[1]!);
      else if (parts[1] === 'instance') {
        keyed.series!.add('instance');
        if (parts[2]) keyed['series.instance']!.add(parts[2]);
      }
      continue;
    }
    if (SHARED_ARRAYS.has(top)) {
      const filters = (shared[top] ??= []);
      const filter = path === top ? BARE_FILTER[top] : path;
      if (filter !== undefined && !filters.includes(filter)) filters.push(filter);
      continue;
    }
    whole.add(top);
  }
  return {
    whole: [...whole],
    shared,
    keyed: Object.fromEntries(Object.entries(keyed).map(([k, v]) => [k, [...v]])),
  };
}

// ---------------------------------------------------------------------------
// merge

type Json = Record<string, unknown>;

/** JSON with sorted keys, for member equality. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Json)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Whether `member` of the shared array `element` is one the bridge writes (by filter) or wrote (in `previous`). */
function isOwnedMember(element: string, member: unknown, filters: string[], written: Set<string>): boolean {
  if (written.has(canonicalJson(member))) return true;
  return filters.some((filter) => selectPath({ [element]: [member] }, filter).length > 0);
}

function mergeShared(element: string, existing: unknown, generated: unknown, previous: unknown, filters: string[]): unknown[] | undefined {
  const ours = asArray(generated);
  const written = new Set([...asArray(previous), ...ours].map(canonicalJson));
  const theirs = asArray(existing).filter((m) => !isOwnedMember(element, m, filters, written));
  const merged = [...ours, ...theirs];
  return merged.length > 0 ? merged : undefined;
}

function mergeKeyed(path: string, existing: unknown, generated: unknown, owned: OwnedElements): unknown {
  const key = KEYED[path]!;
  const ownedNames = new Set(owned.keyed[path] ?? []);
  const before = new Map<string, Json>();
  for (const m of asArray(existing)) {
    if (m !== null && typeof m === 'object' && typeof (m as Json)[key] === 'string') before.set((m as Json)[key] as string, m as Json);
  }
  if (!Array.isArray(generated)) return generated;
  return generated.map((ours: Json) => {
    const theirs = before.get(ours[key] as string);
    if (theirs === undefined) return ours;
    const out: Json = {};
    for (const [name, value] of Object.entries(ours)) {
      const child = `${path}.${name}`;
      out[name] = KEYED[child] !== undefined ? mergeKeyed(child, theirs[name], value, owned) : value;
    }
    for (const [name, value] of Object.entries(theirs)) {
      if (!ownedNames.has(name) && !(name in out)) out[name] = value;
    }
    return out;
  });
}

/**
 * The resource to write: `generated` (what the bridge maps now) merged into
 * `existing` (what the server has, possibly edited by others). `previous` is
 * what the bridge generated last time, when known: shared-array members it
 * holds are the bridge's even when no filter says so (e.g. an old Endpoint
 * reference). The result keeps `existing.id`; `meta` keeps all but versionId
 * and lastUpdated. Pure.
 */
export function mergeImagingStudy(existing: FhirResource, generated: FhirResource, version: FhirVersion, previous?: unknown): FhirResource {
  const owned = ownedElements(version);
  const gen: Json = generated;
  const prev = (previous !== null && typeof previous === 'object' ? previous : {}) as Json;
  // The result holds others' elements too: any ImagingStudy JSON, no longer the generated type.
  const out: FhirResource = { resourceType: existing.resourceType };
  if (existing.id !== undefined) out.id = existing.id;
  const meta = existing.meta as Json | undefined;
  if (meta !== undefined) {
    const { versionId: _v, lastUpdated: _l, ...rest } = meta;
    if (Object.keys(rest).length > 0) out.meta = rest;
  }
  const ownedTop = new Set([...owned.whole.filter((name) => !OWNED_WHEN_WRITTEN.has(name)), ...Object.keys(owned.shared), 'series']);
  for (const [name, value] of Object.entries(gen)) {
    if (name === 'resourceType' || name === 'id' || name === 'meta' || value === undefined) continue;
    if (name in owned.shared) continue;
    out[name] = name === 'series' ? mergeKeyed('series', existing.series, value, owned) : value;
  }
  for (const [name, filters] of Object.entries(owned.shared)) {
    const merged = mergeShared(name, existing[name], gen[name], prev[name], filters);
    if (merged !== undefined) out[name] = merged;
  }
  for (const [name, value] of Object.entries(existing)) {
    if (name === 'resourceType' || name === 'id' || name === 'meta') continue;
    if (ownedTop.has(name) || name in out) continue;
    out[name] = value;
  }
  return out;
}

/** Whether two versions of a resource say the same, ignoring meta.versionId / lastUpdated and key order. */
export function sameContent(a: Json, b: Json): boolean {
  const strip = (r: Json): Json => {
    const meta = r.meta as Json | undefined;
    if (meta === undefined) return r;
    const { versionId: _v, lastUpdated: _l, ...rest } = meta;
    const { meta: _m, ...others } = r;
    return Object.keys(rest).length > 0 ? { ...others, meta: rest } : others;
  };
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

// ---------------------------------------------------------------------------
// README

/** The owned elements per version, as Markdown for the README. */
export function renderOwnedElementsMarkdown(): string {
  const lines = [
    'The bridge owns these ImagingStudy elements and rewrites them on every publish; every other element',
    '(`note`, `encounter`, `extension`, `meta.tag`, `text`, ...) is kept as another client wrote it.',
    `${[...OWNED_WHEN_WRITTEN].map((name) => `\`${name}\``).join(', ')} is the bridge's only when it writes one (R4/R5 with \`FHIR_LOCATION=display\` and a location in the DICOM); otherwise another client's is kept.`,
    'Before an update the bridge reads the resource and writes with `If-Match` on the version it read.',
    '',
    '| FHIR version | whole elements | shared arrays (bridge members only) | series / instance (matched by `uid`) |',
    '|---|---|---|---|',
  ];
  for (const v of FHIR_VERSIONS) {
    const o = ownedElements(v);
    const code = (xs: string[]) => xs.map((x) => `\`${x.replace(/\|/g, '\\|')}\``).join(', ');
    lines.push(
      `| ${v} | ${code(o.whole)} | ${code(Object.values(o.shared).flat())} | series: ${code(o.keyed.series ?? [])}; instance: ${code(o.keyed['series.instance'] ?? [])} |`,
    );
  }
  lines.push('', 'Shared-array members the bridge wrote in its previous publish are also treated as its own (e.g. an older `endpoint` reference).');
  return `${lines.join('\n')}\n`;
}
