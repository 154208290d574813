/**
 * The import graph of src/: every relative import of every module, read from
 * the source text (static `import … from`, `export … from`, `import()`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SRC = fileURLToPath(new URL('../../src', import.meta.url));

export interface ModuleImports {
  /** Path relative to src/, e.g. `fhir/map-patient.ts`. */
  module: string;
  /** Relative imports resolved to modules under src/ (`.ts` or `.json`). */
  local: string[];
  /** Bare specifiers (packages and `node:` modules); `typeOnly` when every import of it is `import type`. */
  external: { specifier: string; typeOnly: boolean }[];
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : [],
  );
}

const SPECIFIER = /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

export function readImportGraph(): ModuleImports[] {
  return walk(SRC).map((file) => {
    const text = readFileSync(file, 'utf8');
    const local = new Set<string>();
    const external = new Map<string, boolean>();
    for (const m of text.matchAll(SPECIFIER)) {
      const specifier = m[3] ?? m[4]!;
      const typeOnly = m[2] !== undefined;
      if (specifier.startsWith('.')) {
        const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts');
        local.add(path.relative(SRC, target));
      } else {
        external.set(specifier, (external.get(specifier) ?? true) && typeOnly);
      }
    }
    return {
      module: path.relative(SRC, file),
      local: [...local].sort(),
      external: [...external].map(([specifier, typeOnly]) => ({ specifier, typeOnly })),
    };
  });
}

/** Strongly connected components of more than one module (or a module importing itself): the import circles. */
export function importCircles(graph: ModuleImports[]): string[][] {
  const edges = new Map(graph.map((m) => [m.module, m.local.filter((l) => l.endsWith('.ts'))]));
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!indexOf.has(v)) visit(v);
  return circles;
}
