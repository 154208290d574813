import { describe, expect, test } from 'vitest';
import { CONFORMANCE, elementPresent, FHIR_VERSIONS, renderConformanceMarkdown, selectPath } from '../../src/fhir/conformance.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import { fullStudy, options } from './fixtures.js';

const mapped = Object.fromEntries(FHIR_VERSIONS.map((v) => [v, mapImagingStudy(fullStudy(), options({ fhirVersion: v }))]));

const rowsPerVersion = FHIR_VERSIONS.flatMap((v) =>
  CONFORMANCE.filter((r) => r.element[v] !== undefined).map((r) => [v, r.element[v]!, r.source] as const),
);

describe('the conformance table cannot lie', () => {
  test.each(rowsPerVersion)('%s %s ← %s is present in the fully populated study', (v, path) => {
    expect(elementPresent(mapped[v], path)).toBe(true);
  });

  test.each(FHIR_VERSIONS)('%s: every element the mapping writes has a row', (v) => {
    const covered = (prefix: string) => CONFORMANCE.some((r) => r.element[v]?.replace(/\[[^\]]*\]/g, '').split('.').slice(0, prefix.split('.').length).join('.') === prefix);
    const resource = mapped[v] as unknown as Record<string, unknown>;
    const top = Object.keys(resource).filter((k) => k !== 'resourceType');
    const series = Object.keys((resource.series as Array<Record<string, unknown>>)[0]!).map((k) => `series.${k}`);
    const instance = Object.keys(((resource.series as Array<Record<string, unknown>>)[0]!.instance as Array<Record<string, unknown>>)[0]!).map((k) => `series.instance.${k}`);
    const uncovered = [...top, ...series, ...instance].filter((p) => p !== 'series' && p !== 'series.instance' && !covered(p));
    expect(uncovered).toEqual([]);
  });

  test('interpreter is R4/STU3 only', () => {
    const row = CONFORMANCE.find((r) => r.source.includes('(0008,1060)'))!;
    expect(row.element.R5).toBeUndefined();
    expect(mapped.R5).not.toHaveProperty('interpreter');
  });

  test('path filters select the right members', () => {
    expect(selectPath(mapped.R4, 'identifier[type.coding.code=ACSN]')).toEqual([expect.objectContaining({ value: 'ACC-42' })]);
    expect(selectPath(mapped.R4, 'identifier[!system][!type]')).toEqual([{ value: 'S77' }]);
    expect(elementPresent(mapped.R4, 'identifier[system=urn:nothing]')).toBe(false);
    expect(selectPath(mapped.R4, 'series.instance.number')).toEqual([1, 2, 10, 1, 2]);
  });
});

describe('renderConformanceMarkdown', () => {
  const md = renderConformanceMarkdown();
  test('a Markdown table with one line per row', () => {
    const lines = md.trimEnd().split('\n');
    expect(lines[0]).toBe('| DICOM source | STU3 | R4 | R5 | Notes |');
    expect(lines[1]).toBe('|---|---|---|---|---|');
    expect(lines).toHaveLength(CONFORMANCE.length + 2);
    for (const line of lines) expect(line.replace(/\\\|/g, '').split('|')).toHaveLength(7);
  });
  test('names the elements per version', () => {
    expect(md).toContain('| (0008,1032) Procedure Code Sequence | `procedureCode` | `procedureCode` | `procedure.concept` |');
    expect(md).toContain('| (0008,1060) Name of Physician(s) Reading Study | `interpreter.display` | `interpreter.display` | — |');
  });
});
