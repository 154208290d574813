/** The MADO FSH source kept in docs/mado/fsh/ (CC-BY-4.0, IHE): read by the rule tests. */
import { readFileSync } from 'node:fs';

const FSH_DIR = new URL('../../../docs/mado/fsh/', import.meta.url);

export function readFsh(file: string): string {
  return readFileSync(new URL(file, FSH_DIR), 'utf8');
}

/** Line `line` (1-based) of an FSH file. */
export function fshLine(file: string, line: number): string {
  return readFsh(file).split('\n')[line - 1] ?? '';
}
