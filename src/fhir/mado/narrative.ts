/** Generated XHTML narratives (R4 Narrative: a `div` in the XHTML namespace, only basic elements). Pure. */
import type { Narrative } from './r4-types.js';

export function escapeXhtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A narrative of a heading and a table of label/value rows (rows without a value are left out). */
export function tableNarrative(heading: string | undefined, rows: ReadonlyArray<readonly [string, string | undefined]>): Narrative {
  const body = rows
    .filter((r): r is readonly [string, string] => r[1] !== undefined && r[1] !== '')
    .map(([label, value]) => `<tr><th>${escapeXhtml(label)}</th><td>${escapeXhtml(value)}</td></tr>`)
    .join('');
  const head = heading ? `<p><b>${escapeXhtml(heading)}</b></p>` : '';
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${head}<table><tbody>${body}</tbody></table></div>` };
}
