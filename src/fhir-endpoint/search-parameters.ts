/**
 * ImagingStudy search parameters of the built-in FHIR endpoint, and the
 * parsing of a search URL into a ParsedSearch (FHIR search.html semantics).
 *
 * - Repeated parameters are AND-ed, comma-separated values OR-ed (`\,` `\|`
 *   `\$` `\\` escapes); empty values are ignored.
 * - token: `code`, `system|code`, `|code` (no system), `system|`.
 *   UIDs (study, series, instance/uid, dicom-class) match with or without
 *   `urn:oid:`.
 * - reference (patient, subject, basedon, endpoint): `Type/id`, `id`, an
 *   absolute URL ending in `Type/id`; the `:identifier` modifier
 *   (`patient:identifier=system|value`, R4 search.html) matches the
 *   reference's identifier, or (patient, subject) the identifier of the
 *   referenced Patient in the index; the chain `patient.identifier=system|value`
 *   matches studies whose Patient (in the index) has that identifier, or
 *   whose logical subject reference carries it.
 * - date (started): prefixes eq ne lt le gt ge sa eb over instant ranges
 *   (see index-terms.ts fhirDateRange: values without an offset are read in
 *   the configured timezone).
 * - results: _count (default 50, at most 1000, 0 = total only), _offset,
 *   _sort (started, _id, with `-`), _summary (count, false), _elements;
 *   _format and _pretty are accepted and ignored (JSON only).
 * Unknown parameters or modifiers: an error, unless lenient (Prefer:
 * handling=lenient), when they are ignored and left out of the self link.
 * Bounds (SEARCH_LIMITS, 400 too-costly naming the limit): OR-ed values per
 * parameter, AND-ed parameters, values of a chained parameter (the chain
 * `.identifier`, and patient/subject `:identifier`, which also searches
 * through the Patient); _offset and _count have at most 15 digits.
 */
import type { FhirVersion } from '../fhir/mapping-options.js';
import { fhirDateRange, normalizeReference } from './index-terms.js';
import type { DatePrefix, ParsedSearch, SearchMatch, SearchSort } from './resource-index.js';
import { stripOid } from '../fhir/resource-ids.js';

export type SearchParamType = 'token' | 'reference' | 'date' | 'uri';

export interface SearchParamDefinition {
  name: string;
  type: SearchParamType;
  /** The index parameter (index-terms.ts). */
  index: string;
  /** Reference target type. */
  target?: string;
  /** Values are DICOM UIDs: `urn:oid:` is optional. */
  uid?: boolean;
  /** Versions where the parameter exists; default all. */
  versions?: readonly FhirVersion[];
  documentation: string;
}

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 1000;

/**
 * The most one search may ask for. Each OR-ed value is a subquery of the
 * index's SQL (SQLite allows 500 terms in a compound SELECT) or a set of the
 * Redis script; a chained value costs two. Documented in README (Built-in FHIR endpoint).
 */
export const SEARCH_LIMITS = {
  /** Comma-separated values of one parameter. */
  orValues: 100,
  /** Search parameters (repeated ones included) AND-ed in one search; _count, _sort, ... do not count. */
  andParameters: 10,
  /** Values of one chained parameter: `patient.identifier`, `subject.identifier`, `patient:identifier`, `subject:identifier`. */
  chainedValues: 20,
} as const;

export const IMAGING_STUDY_SEARCH_PARAMETERS: readonly SearchParamDefinition[] = [
  { name: '_id', type: 'token', index: '_id', documentation: 'Logical id: the Study Instance UID.' },
  { name: 'accession', type: 'token', index: 'accession', documentation: 'Accession Number (identifier of type ACSN; STU3 accession).' },
  { name: 'basedon', type: 'reference', index: 'basedon', target: 'ServiceRequest', documentation: 'basedOn reference; basedon:identifier=system|value matches the accession-based logical reference.' },
  { name: 'order', type: 'token', index: 'basedon:identifier', documentation: 'The order (accession identifier) of basedOn: same as basedon:identifier.' },
  { name: 'bodysite', type: 'token', index: 'bodysite', documentation: 'series.bodySite (SNOMED CT).' },
  { name: 'dicom-class', type: 'token', index: 'dicom-class', uid: true, documentation: 'SOP Class UID of an instance, with or without urn:oid:.' },
  { name: 'endpoint', type: 'reference', index: 'endpoint', target: 'Endpoint', documentation: 'The study or series endpoint.' },
  { name: 'identifier', type: 'token', index: 'identifier', documentation: 'identifier (R4/R5: includes urn:dicom:uid|urn:oid:<Study Instance UID>).' },
  { name: 'instance', type: 'token', index: 'instance', uid: true, documentation: 'SOP Instance UID.' },
  { name: 'modality', type: 'token', index: 'modality', documentation: 'Modality (DICOM DCM code system), of the study or a series.' },
  { name: 'patient', type: 'reference', index: 'patient', target: 'Patient', documentation: 'Patient/<id>, <id>, patient:identifier=system|value, or the chain patient.identifier=system|value.' },
  { name: 'reason', type: 'token', index: 'reason', documentation: 'Reason for the study.' },
  { name: 'series', type: 'token', index: 'series', uid: true, documentation: 'Series Instance UID, with or without urn:oid:.' },
  { name: 'started', type: 'date', index: 'started', documentation: 'Study date/time; prefixes eq ne lt le gt ge sa eb; values without offset are in the server timezone.' },
  { name: 'status', type: 'token', index: 'status', versions: ['R4', 'R5'], documentation: 'status.' },
  { name: 'study', type: 'uri', index: 'study', uid: true, documentation: 'Study Instance UID, with or without urn:oid: (STU3 parameter).' },
  { name: 'subject', type: 'reference', index: 'patient', target: 'Patient', documentation: 'Same as patient.' },
  { name: 'uid', type: 'uri', index: 'instance', uid: true, documentation: 'SOP Instance UID, with or without urn:oid: (STU3 parameter).' },
];

export function searchParametersFor(version: FhirVersion): SearchParamDefinition[] {
  return IMAGING_STUDY_SEARCH_PARAMETERS.filter((p) => !p.versions || p.versions.includes(version));
}

const RESULT_PARAMETERS = new Set(['_count', '_offset', '_sort', '_summary', '_elements', '_format', '_pretty']);
const PREFIXES: readonly DatePrefix[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'sa', 'eb'];
const ELEMENT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

export interface SearchRequest {
  search: ParsedSearch;
  /** `_summary=count`. */
  totalOnly: boolean;
  /** `_elements`, when given. */
  elements?: string[];
  /** The parameters that were applied (name, raw value), in request order, without _offset/_count. */
  applied: Array<[string, string]>;
}

/** A search the endpoint refuses (400): `invalid`, or `too-costly` beyond SEARCH_LIMITS. */
export class SearchParseError extends Error {
  constructor(
    message: string,
    readonly code: 'invalid' | 'too-costly' = 'invalid',
  ) {
    super(message);
  }
}

/** Splits on an unescaped separator, keeping escapes for the next step. */
function splitUnescaped(value: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      cur += c + value[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const unescape = (v: string): string => v.replace(/\\([\\,|$])/g, '$1');

function parseToken(raw: string, uid: boolean): { system?: string | null; code?: string } {
  const parts = splitUnescaped(raw, '|');
  const norm = (c: string) => (uid ? stripOid(unescape(c)) : unescape(c));
  if (parts.length === 1) return { code: norm(parts[0]!) };
  const system = unescape(parts[0]!);
  const code = parts.slice(1).join('|');
  return { system: system === '' ? null : system, ...(code === '' ? {} : { code: norm(code) }) };
}

function valueMatches(def: SearchParamDefinition, modifier: string | undefined, chain: string | undefined, raw: string, timezone: string): SearchMatch {
  if (chain !== undefined) {
    // Only `<reference>.identifier`.
    const t = parseToken(raw, false);
    return { kind: 'chain', param: def.index, target: { resourceType: def.target!, param: 'identifier', ...t } };
  }
  switch (def.type) {
    case 'token':
    case 'uri': {
      if (def.index === '_id') return { kind: 'id', id: unescape(raw) };
      const t = def.type === 'uri' ? { code: def.uid ? stripOid(unescape(raw)) : unescape(raw) } : parseToken(raw, def.uid === true);
      return { kind: 'token', param: def.index, ...t };
    }
    case 'reference': {
      if (modifier === 'identifier') return { kind: 'token', param: `${def.index}:identifier`, ...parseToken(raw, false) };
      const ref = normalizeReference(unescape(raw), def.target);
      if (!ref) throw new SearchParseError(`${def.name}: '${raw}' is not a reference`);
      return { kind: 'token', param: def.index, system: null, code: ref };
    }
    case 'date': {
      const m = /^([a-z]{2})?(.*)$/.exec(raw)!;
      const prefix = (m[1] ?? 'eq') as DatePrefix;
      if (!PREFIXES.includes(prefix)) throw new SearchParseError(`${def.name}: unknown prefix '${m[1]}'`);
      const range = fhirDateRange(m[2]!, timezone);
      if (!range) throw new SearchParseError(`${def.name}: '${m[2]}' is not a FHIR date or dateTime`);
      return { kind: 'date', param: def.index, prefix, low: range.low, high: range.high };
    }
  }
}

function nonNegativeInteger(name: string, value: string): number {
  // 15 digits stay exact as a number (below 2^53).
  if (!/^\d{1,15}$/.test(value)) throw new SearchParseError(`${name} must be a non-negative integer of at most 15 digits, not '${clip(value)}'`);
  return Number(value);
}

/** A value quoted in an error, cut short. */
function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

export interface ParseOptions {
  version: FhirVersion;
  timezone: string;
  lenient: boolean;
  /** The search parameters of the resource type; default the ImagingStudy ones of `version`. */
  parameters?: readonly SearchParamDefinition[];
}

/** Parses the query of `GET ImagingStudy?…`; throws SearchParseError (→ 400). */
export function parseImagingStudySearch(query: URLSearchParams, options: ParseOptions): SearchRequest {
  const defs = new Map((options.parameters ?? searchParametersFor(options.version)).map((d) => [d.name, d]));
  const where: SearchMatch[][] = [];
  const applied: Array<[string, string]> = [];
  let count = DEFAULT_COUNT;
  let offset = 0;
  let sort: SearchSort[] = [];
  let totalOnly = false;
  let elements: string[] | undefined;
  const unknown = (what: string): void => {
    if (!options.lenient) throw new SearchParseError(`${what} (Prefer: handling=lenient ignores it)`);
  };

  for (const [key, value] of query) {
    if (value === '') continue;
    if (RESULT_PARAMETERS.has(key)) {
      switch (key) {
        case '_count':
          count = Math.min(nonNegativeInteger(key, value), MAX_COUNT);
          break;
        case '_offset':
          offset = nonNegativeInteger(key, value);
          break;
        case '_sort': {
          const keys: SearchSort[] = [];
          for (const k of value.split(',')) {
            const descending = k.startsWith('-');
            const name = descending ? k.slice(1) : k;
            if (name !== 'started' && name !== '_id') {
              unknown(`_sort: unsupported sort parameter '${name}' (supported: started, _id)`);
              continue;
            }
            keys.push({ param: name, descending });
          }
          sort = keys;
          if (keys.length) applied.push([key, keys.map((k) => `${k.descending ? '-' : ''}${k.param}`).join(',')]);
          break;
        }
        case '_summary':
          if (value === 'count') totalOnly = true;
          else if (value !== 'false') {
            unknown(`_summary=${value} is not supported (supported: count, false)`);
            break;
          }
          applied.push([key, value]);
          break;
        case '_elements': {
          const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
          for (const n of names) if (!ELEMENT_NAME.test(n)) throw new SearchParseError(`_elements: '${n}' is not an element name`);
          elements = names;
          applied.push([key, names.join(',')]);
          break;
        }
        default:
          break; // _format, _pretty: JSON only, accepted.
      }
      continue;
    }
    const dot = key.indexOf('.');
    const base = dot >= 0 ? key.slice(0, dot) : key;
    const chain = dot >= 0 ? key.slice(dot + 1) : undefined;
    const [name, modifier, ...rest] = base.split(':');
    const def = defs.get(name!);
    if (!def) {
      unknown(`unknown search parameter '${key}'`);
      continue;
    }
    const modifierOk =
      rest.length === 0 &&
      (modifier === undefined || (def.type === 'reference' && (modifier === 'identifier' || modifier === def.target)));
    const chainOk = chain === undefined || (def.type === 'reference' && chain === 'identifier' && modifier === undefined);
    if (!modifierOk || !chainOk) {
      unknown(`unsupported modifier or chain in '${key}'`);
      continue;
    }
    const values = splitUnescaped(value, ',').filter((v) => v !== '');
    const chained = chain !== undefined || (modifier === 'identifier' && def.target === 'Patient');
    if (chained && values.length > SEARCH_LIMITS.chainedValues) {
      throw new SearchParseError(`'${clip(key)}' has ${values.length} values: at most ${SEARCH_LIMITS.chainedValues} for a chained parameter`, 'too-costly');
    }
    if (values.length > SEARCH_LIMITS.orValues) {
      throw new SearchParseError(`'${clip(key)}' has ${values.length} OR-ed values: at most ${SEARCH_LIMITS.orValues} per parameter`, 'too-costly');
    }
    if (values.length > 0 && where.length >= SEARCH_LIMITS.andParameters) {
      throw new SearchParseError(`more than ${SEARCH_LIMITS.andParameters} AND-ed search parameters: at most ${SEARCH_LIMITS.andParameters} in one search`, 'too-costly');
    }
    const any = values.map((v) => valueMatches(def, modifier === def.target ? undefined : modifier, chain, v, options.timezone));
    if (chain !== undefined) {
      // The chain, or the same identifier on a logical reference (no Patient resource needed).
      for (const m of [...any]) if (m.kind === 'chain') any.push({ kind: 'token', param: `${def.index}:identifier`, system: m.target.system, code: m.target.code } as SearchMatch);
    }
    if (modifier === 'identifier' && def.target === 'Patient') {
      // The bridge's ImagingStudies refer to their Patient by `reference` (Patient/<id>), without the
      // identifier: `:identifier` also matches through that Patient's identifier, like the chain.
      for (const m of [...any]) {
        if (m.kind === 'token') any.push({ kind: 'chain', param: def.index, target: { resourceType: 'Patient', param: 'identifier', system: m.system, code: m.code } });
      }
    }
    if (any.length === 0) continue;
    where.push(any);
    applied.push([key, value]);
  }
  return { search: { where, sort, count, offset }, totalOnly, elements, applied };
}
