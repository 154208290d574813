/**
 * Runs one import: studies from a source, `concurrency` at a time and at
 * most `rate` started a second, each loaded and its records queued in the
 * durable queue (the same JobQueue.addInstance a C-STORE uses), then
 * checkpointed in the store. With `resume` the studies checkpointed by the
 * same run (source and filters) are skipped; without it the run starts
 * over. A study is checkpointed only once all its records are queued, so an
 * interrupted study is queued again whole on resume (merges are
 * idempotent: keyed-by-sop-instance-uid, change-is-a-different-value).
 * A dry run loads no more than the listing needs and queues nothing.
 */
import type { InstanceRecord } from '../dicom/instance-record.js';
import { errorMessage } from '../errors.js';
import type { ImportCheckpoints } from '../pipeline/import-checkpoints.js';
import type { ImportSource, SourceProblem, StudyWork } from './source.js';

export interface ImportTarget {
  addInstance(record: InstanceRecord): Promise<void>;
  checkpoints: ImportCheckpoints;
}

export interface RunOptions {
  concurrency: number;
  /** Most studies started per second; undefined: no limit. */
  rate?: number;
  resume: boolean;
  /** Undefined: a dry run (counts only). */
  target?: ImportTarget;
  signal: AbortSignal;
  progress?: (event: ProgressEvent) => void;
}

export type StudyOutcome = 'queued' | 'skipped' | 'failed' | 'counted';

export interface ProgressEvent {
  studyInstanceUid: string;
  outcome: StudyOutcome;
  instances: number;
  reason?: string;
  totals: ImportTotals;
}

export interface ImportTotals {
  studiesFound: number;
  studiesQueued: number;
  studiesSkipped: number;
  studiesFailed: number;
  instancesQueued: number;
  /** Instances of the studies skipped (from their checkpoints' listing, when known). */
  instancesSkipped: number;
  /** Dry run: studies and instances counted. */
  studiesCounted: number;
  instancesCounted: number;
}

export interface ImportSummary extends ImportTotals {
  /** Studies that failed, with the reason; and problems outside of a study (files). */
  failures: SourceProblem[];
  interrupted: boolean;
  elapsedMs: number;
}

export async function runImport(source: ImportSource, options: RunOptions): Promise<ImportSummary> {
  const started = Date.now();
  const totals: ImportTotals = {
    studiesFound: 0,
    studiesQueued: 0,
    studiesSkipped: 0,
    studiesFailed: 0,
    instancesQueued: 0,
    instancesSkipped: 0,
    studiesCounted: 0,
    instancesCounted: 0,
  };
  const failures: SourceProblem[] = [];
  const { target, signal } = options;
  if (target && !options.resume) await target.checkpoints.clear(source.runId);
  const done = target && options.resume ? await target.checkpoints.done(source.runId) : new Set<string>();
  const report = (work: StudyWork, outcome: StudyOutcome, instances: number, reason?: string): void => {
    options.progress?.({ studyInstanceUid: work.studyInstanceUid, outcome, instances, ...(reason ? { reason } : {}), totals: { ...totals } });
  };

  const one = async (work: StudyWork): Promise<void> => {
    if (done.has(work.studyInstanceUid)) {
      totals.studiesSkipped += 1;
      totals.instancesSkipped += work.instances ?? 0;
      report(work, 'skipped', work.instances ?? 0);
      return;
    }
    try {
      if (!target) {
        const instances = work.instances ?? (await work.load()).length;
        totals.studiesCounted += 1;
        totals.instancesCounted += instances;
        report(work, 'counted', instances);
        return;
      }
      const records = await work.load();
      if (records.length === 0) throw new Error('the source returned no instance');
      for (const record of records) {
        if (signal.aborted) throw new Interrupted();
        await target.addInstance(record);
      }
      await target.checkpoints.mark(source.runId, work.studyInstanceUid, records.length);
      totals.studiesQueued += 1;
      totals.instancesQueued += records.length;
      report(work, 'queued', records.length);
    } catch (err) {
      // Interrupted: the study is neither queued nor failed; --resume loads it again.
      if (err instanceof Interrupted || signal.aborted) return;
      totals.studiesFailed += 1;
      const reason = errorMessage(err);
      failures.push({ subject: `study ${work.studyInstanceUid}`, reason });
      report(work, 'failed', 0, reason);
    }
  };

  // A pool of `concurrency` workers pulling from the source's listing.
  const running = new Set<Promise<void>>();
  let nextStart = started;
  const problem = (p: SourceProblem): void => {
    failures.push(p);
  };
  for await (const work of source.studies(problem, signal)) {
    if (signal.aborted) break;
    totals.studiesFound += 1;
    if (options.rate !== undefined && !done.has(work.studyInstanceUid)) {
      const wait = nextStart - Date.now();
      nextStart = Math.max(nextStart, Date.now()) + 1000 / options.rate;
      if (wait > 0) await sleep(wait, signal);
      if (signal.aborted) break;
    }
    const task = one(work).finally(() => running.delete(task));
    running.add(task);
    if (running.size >= Math.max(1, options.concurrency)) await Promise.race(running);
  }
  await Promise.all(running);
  return { ...totals, failures, interrupted: signal.aborted, elapsedMs: Date.now() - started };
}

class Interrupted extends Error {}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
