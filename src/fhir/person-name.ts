/**
 * DICOM PN (PS3.5 6.2.1) → FHIR HumanName.
 *
 * - Components `Family^Given^Middle^Prefix^Suffix` → family, given (given
 *   then middle, as two entries; a component is never split on spaces),
 *   prefix, suffix; `text` is the display string below.
 * - Component groups alphabetic=ideographic=phonetic: the first non-empty
 *   group gives the main HumanName, the others follow as further HumanNames.
 *   When a name has more than one group, every HumanName carries the
 *   `iso21090-EN-representation` extension (ABC / IDE / SYL) of its group; a
 *   lone non-alphabetic group is tagged too, a lone alphabetic one is not.
 * - Display (HumanName.text and the `display` of referrer, interpreter,
 *   performer) of the main group, empty components left out, joined by single
 *   spaces. An alphabetic group in HumanName.text's convention, prefix given
 *   middle family suffix (issue 19 item 10): `Müller^Jürgen^Karl^Dr.^MD` →
 *   `Dr. Jürgen Karl Müller MD`. An ideographic or phonetic group (CJK) keeps
 *   the DICOM order, family first, the natural order of those names:
 *   `山田^太郎` → `山田 太郎`. Other groups are not appended to displays.
 */
import type { PersonName } from '../dicom/attribute-values.js';
import { EN_REPRESENTATION_URL } from './systems.js';
import type { Extension, HumanName } from './types/common.js';

export { EN_REPRESENTATION_URL } from './systems.js';

type Group = 'alphabetic' | 'ideographic' | 'phonetic';

const REPRESENTATION: Readonly<Record<Group, string>> = {
  alphabetic: 'ABC',
  ideographic: 'IDE',
  phonetic: 'SYL',
};

const GROUPS: readonly Group[] = ['alphabetic', 'ideographic', 'phonetic'];

function components(group: string): string[] {
  return group.split('^').map((c) => c.trim().replace(/\s+/g, ' '));
}

/** Readable text of one component group (DICOM order, `^` → space). */
export function groupText(group: string): string {
  return components(group)
    .filter((c) => c !== '')
    .join(' ');
}

function nonEmptyGroups(pn: PersonName | undefined): Array<[Group, string]> {
  if (!pn) return [];
  const out: Array<[Group, string]> = [];
  for (const g of GROUPS) {
    const v = pn[g];
    if (v !== undefined && groupText(v) !== '') out.push([g, v]);
  }
  return out;
}

/** Display of one group: alphabetic prefix given middle family suffix; ideographic / phonetic DICOM order. */
function displayText(group: string, kind: Group): string {
  if (kind !== 'alphabetic') return groupText(group);
  const [family, given, middle, prefix, suffix] = components(group);
  return [prefix, given, middle, family, suffix].filter((c): c is string => !!c).join(' ');
}

function groupToHumanName(group: string, kind: Group, extension?: Extension): HumanName {
  const [family, given, middle, prefix, suffix] = components(group);
  const name: HumanName = {};
  if (extension) name.extension = [extension];
  name.text = displayText(group, kind);
  if (family) name.family = family;
  const givens = [given, middle].filter((c): c is string => !!c);
  if (givens.length) name.given = givens;
  if (prefix) name.prefix = [prefix];
  if (suffix) name.suffix = [suffix];
  return name;
}

/** All HumanNames of a PN value (main first); [] when the PN is empty. */
export function toHumanNames(pn: PersonName | undefined): HumanName[] {
  const groups = nonEmptyGroups(pn);
  const tag = groups.length > 1 || (groups.length === 1 && groups[0]![0] !== 'alphabetic');
  return groups.map(([g, v]) =>
    groupToHumanName(v, g, tag ? { url: EN_REPRESENTATION_URL, valueCode: REPRESENTATION[g] } : undefined),
  );
}

/** Display string of a PN (main group), or undefined when empty. */
export function personNameDisplay(pn: PersonName | undefined): string | undefined {
  const groups = nonEmptyGroups(pn);
  return groups.length ? displayText(groups[0]![1], groups[0]![0]) : undefined;
}
