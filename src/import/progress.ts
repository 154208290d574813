/**
 * Progress of an import on stderr: one bar redrawn on a terminal (studies,
 * instances, rate, ETA when the total is known), else one plain line per
 * study; and the final summary.
 */
import type { ImportSummary, ProgressEvent } from './runner.js';

const studies = (n: number): string => `${n} ${n === 1 ? 'study' : 'studies'}`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export function progressWriter(out: { isTTY?: boolean; write(s: string): unknown }, started = Date.now()): (event: ProgressEvent) => void {
  const tty = out.isTTY === true;
  let lastDraw = 0;
  return (event) => {
    const t = event.totals;
    const processed = t.studiesQueued + t.studiesSkipped + t.studiesFailed + t.studiesCounted;
    const elapsed = Date.now() - started;
    const instances = t.instancesQueued + t.instancesCounted;
    const rate = elapsed > 0 ? (processed * 1000) / elapsed : 0;
    const found = t.studiesFound;
    const remaining = Math.max(0, found - processed);
    const eta = rate > 0 ? seconds((remaining / rate) * 1000) : '?';
    const line = `${processed}/${found} studies, ${instances} instances, ${rate.toFixed(1)} studies/s, ${((instances * 1000) / Math.max(elapsed, 1)).toFixed(0)} instances/s, ETA ${eta}`;
    if (tty) {
      const now = Date.now();
      if (now - lastDraw < 100 && remaining > 0) return;
      lastDraw = now;
      const width = 24;
      const filled = found === 0 ? 0 : Math.round((processed / found) * width);
      out.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${line}\x1b[K`);
      return;
    }
    const what = event.outcome === 'failed' ? `failed: ${event.reason}` : `${event.outcome} (${event.instances} instances)`;
    out.write(`${line} | study ${event.studyInstanceUid} ${what}\n`);
  };
}

/** The final summary, several lines. */
export function formatSummary(summary: ImportSummary, dryRun: boolean): string {
  const lines: string[] = [];
  if (dryRun) {
    lines.push(`dry run: ${studies(summary.studiesCounted)}, ${summary.instancesCounted} instances would be imported`);
  } else {
    lines.push(
      `${studies(summary.studiesQueued)} (${summary.instancesQueued} instances) queued, ${summary.studiesSkipped} skipped (already imported, --resume), ${summary.studiesFailed} failed, in ${seconds(summary.elapsedMs)}`,
    );
  }
  const fileProblems = summary.failures.length - summary.studiesFailed;
  if (fileProblems > 0) lines.push(`${fileProblems} ${fileProblems === 1 ? 'item' : 'items'} outside any study could not be read`);
  for (const f of summary.failures) lines.push(`  ${f.subject}: ${f.reason}`);
  if (summary.interrupted) lines.push('interrupted: run the same command again with --resume to continue');
  return `${lines.join('\n')}\n`;
}
