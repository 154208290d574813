import { describe, expect, it } from 'vitest';
import { importCircles, readImportGraph } from './imports.js';

// docs/architecture.md: arrows run one way. A folder may import from the folders listed here (and itself).
const ALLOWED: Record<string, string[]> = {
  'cli.ts': ['young-generation.ts', 'cli-main.ts'],
  'young-generation.ts': [],
  'cli-main.ts': ['commands', 'config'],
  commands: ['bridge.ts', 'config', 'dimse', 'logger.ts', 'import', 'pipeline', 'fhir-client', 'dicom', 'errors.ts'],
  'bridge.ts': ['config', 'dimse', 'fhir-client', 'fhir-endpoint', 'http', 'pipeline', 'publish', 'import', 'errors.ts'],
  http: ['fhir-endpoint', 'pipeline', 'publish', 'dicom', 'config', 'errors.ts'],
  import: ['pipeline', 'dimse', 'dicom', 'fhir-client', 'config', 'errors.ts'],
  publish: ['pipeline', 'fhir', 'fhir-client', 'dicom', 'config', 'errors.ts'],
  'fhir-endpoint': ['pipeline', 'fhir', 'dicom', 'errors.ts'],
  pipeline: ['dimse', 'dicom', 'errors.ts'],
  dimse: ['dicom', 'errors.ts'],
  'fhir-client': ['fhir', 'errors.ts'],
  fhir: ['dicom', 'errors.ts'],
  dicom: ['errors.ts'],
  config: ['errors.ts'],
  'logger.ts': [],
  'errors.ts': [],
};

const graph = readImportGraph();
const folderOf = (module: string): string => module.split('/')[0]!;

describe('structure of src/', () => {
  it('every folder is placed in the layout', () => {
    const unknown = [...new Set(graph.map((m) => folderOf(m.module)))].filter((f) => !(f in ALLOWED));
    expect(unknown).toEqual([]);
  });

  it('imports run one way (docs/architecture.md)', () => {
    const wrong = graph.flatMap((m) =>
      m.local
        .filter((l) => folderOf(l) !== folderOf(m.module) && !ALLOWED[folderOf(m.module)]?.includes(folderOf(l)))
        .map((l) => `${m.module} → ${l}`),
    );
    expect(wrong).toEqual([]);
  });

  it('has no import circle anywhere in src/ (type-only imports count too)', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('src/fhir/ is pure: no I/O module, packages only as types', () => {
    const impure = graph
      .filter((m) => folderOf(m.module) === 'fhir')
      .flatMap((m) =>
        m.external
          // Hashing for deterministic ids is a pure function; nothing else of Node is allowed.
          .filter((e) => !e.typeOnly && e.specifier !== 'node:crypto')
          .map((e) => `${m.module} imports ${e.specifier}`),
      );
    expect(impure).toEqual([]);
  });
});
