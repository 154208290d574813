/**
 * Retention of the embedded store (RETENTION_PUBLISHED_DAYS): what a study
 * published longer ago than the period keeps, and what it drops.
 *
 * Kept, whole: the studies, series and instances rows. The merge reads them
 * to recognise a re-sent instance (no change, no publish), and the mapping
 * lists every instance of the study (series.instance, numberOfInstances,
 * modalities, laterality), so a new instance must find them all to publish
 * a complete ImagingStudy. Rejections and rejection notes are kept (they
 * answer later C-STOREs of rejected instances).
 *
 * Dropped: the copy of the last generated ImagingStudy (last_resource) is
 * cut down to what the next publish reads of it, the shared arrays the
 * bridge wrote (identifier, basedOn, endpoint: owned-elements.ts,
 * mergeImagingStudy's `previous`); the publish history down to its newest
 * attempt; import checkpoints older than the period.
 *
 * A publish after retention (new or changed instance, republish) writes the
 * full resource again, and the trigger studies_unretain (database.ts,
 * migration 5) makes the study a candidate again.
 *
 * Work is done in transactions of at most `batchSize` studies and about
 * BATCH_BYTES of resource JSON. RetentionBatches runs them where the
 * database is (the database worker, database-worker.ts); SqliteRetention
 * schedules them from the event loop, one call per batch, so other calls
 * to the database run between batches.
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';

export interface SqliteRetentionOptions {
  /** One retention transaction where the database is (RetentionBatches.runBatch). */
  runBatch: (cutoff: string, retainedAt: string) => Promise<BatchResult>;
  logger: Logger;
  /** Studies published longer ago than this are retained (fractions allowed). */
  publishedDays: number;
  /** Time between passes; the first runs at start. Default 1 h. */
  intervalMs?: number;
  /** Clock (ms since the epoch). Default Date.now. */
  now?: () => number;
}

/** What one pass (or batch) did. */
export interface RetentionResult {
  /** Studies whose last_resource and history were compacted. */
  studies: number;
  /** Bytes of last_resource JSON dropped. */
  resourceBytes: number;
  /** Publish attempts dropped. */
  attempts: number;
  /** Import checkpoints dropped. */
  checkpoints: number;
}

export interface BatchResult extends RetentionResult {
  /** Candidates were left for another batch. */
  more: boolean;
}

/** Resource JSON read per transaction, beyond which the batch ends (one study at least). */
export const BATCH_BYTES = 1 << 20;

const DAY_MS = 86_400_000;
/**
 * The next studies to retain, oldest publish first. The partial index
 * studies_retainable is named: without statistics the planner takes the
 * state index, which reads every published study, retained or not.
 */
export const CANDIDATES_SQL = `SELECT study_uid, last_resource FROM studies INDEXED BY studies_retainable
  WHERE publish_state = 'published' AND retained_at IS NULL AND published_at < ?
  ORDER BY published_at LIMIT ?`;

/** The members of an ImagingStudy that mergeImagingStudy reads of the previous resource. */
const KEPT_MEMBERS = ['resourceType', 'identifier', 'basedOn', 'endpoint'] as const;

/** The compact last_resource: the shared arrays the bridge wrote, nothing the mapping regenerates. */
export function compactResource(resource: unknown): Record<string, unknown> {
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) return {};
  const out: Record<string, unknown> = {};
  for (const name of KEPT_MEMBERS) {
    const value = (resource as Record<string, unknown>)[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The retention transactions, on the database's own connection (in the database worker). */
export class RetentionBatches {
  private readonly stmt;
  private readonly batchTransaction: (cutoff: string, retainedAt: string) => BatchResult;

  /** `batchSize`: most studies (and import checkpoints) per transaction. */
  constructor(db: Database.Database, batchSize: number) {
    this.stmt = {
      candidates: db.prepare<[string, number], { study_uid: string; last_resource: string | null }>(CANDIDATES_SQL),
      compact: db.prepare<[string | null, string, string]>(
        `UPDATE studies SET last_resource = ?, retained_at = ? WHERE study_uid = ? AND publish_state = 'published'`,
      ),
      trimHistory: db.prepare<[string, string]>(
        `DELETE FROM publish_attempts WHERE study_uid = ?
           AND seq < (SELECT MAX(seq) FROM publish_attempts WHERE study_uid = ?)`,
      ),
      oldCheckpoints: db.prepare<[string, number]>(
        `DELETE FROM import_checkpoints WHERE (run, item) IN
           (SELECT run, item FROM import_checkpoints WHERE done_at < ? LIMIT ?)`,
      ),
    };
    this.batchTransaction = db.transaction((cutoff: string, retainedAt: string): BatchResult => {
      const result: BatchResult = { studies: 0, resourceBytes: 0, attempts: 0, checkpoints: 0, more: false };
      const rows = this.stmt.candidates.all(cutoff, batchSize);
      let read = 0;
      for (const row of rows) {
        if (result.studies > 0 && read >= BATCH_BYTES) {
          result.more = true;
          break;
        }
        const before = row.last_resource ?? '';
        read += before.length;
        const after = row.last_resource === null ? null : JSON.stringify(compactResource(JSON.parse(row.last_resource)));
        this.stmt.compact.run(after, retainedAt, row.study_uid);
        result.resourceBytes += before.length - (after?.length ?? 0);
        result.attempts += this.stmt.trimHistory.run(row.study_uid, row.study_uid).changes;
        result.studies++;
      }
      if (rows.length === batchSize) result.more = true;
      const checkpoints = this.stmt.oldCheckpoints.run(cutoff, batchSize).changes;
      result.checkpoints = checkpoints;
      if (checkpoints === batchSize) result.more = true;
      return result;
    });
  }

  /** One transaction: at most batchSize studies published before `cutoff` (and BATCH_BYTES of resources) and batchSize checkpoints. */
  runBatch(cutoff: string, retainedAt: string): BatchResult {
    return this.batchTransaction(cutoff, retainedAt);
  }
}

/** The retention schedule: a pass at start and every intervalMs, each pass batch after batch. */
export class SqliteRetention {
  private readonly options: SqliteRetentionOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionResult> | undefined;
  private closed = false;

  constructor(options: SqliteRetentionOptions) {
    if (!(options.publishedDays > 0)) throw new Error('retention: publishedDays must be a positive number');
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** The cut-off: a study published before it is retained. */
  cutoff(): string {
    return new Date(this.now() - this.options.publishedDays * DAY_MS).toISOString();
  }

  /** One transaction (see RetentionBatches.runBatch). */
  runBatch(): Promise<BatchResult> {
    return this.options.runBatch(this.cutoff(), new Date(this.now()).toISOString());
  }

  /** Batches until nothing is left. */
  runOnce(): Promise<RetentionResult> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<RetentionResult> {
    const total: RetentionResult = { studies: 0, resourceBytes: 0, attempts: 0, checkpoints: 0 };
    for (;;) {
      if (this.closed) break;
      const batch = await this.runBatch();
      total.studies += batch.studies;
      total.resourceBytes += batch.resourceBytes;
      total.attempts += batch.attempts;
      total.checkpoints += batch.checkpoints;
      if (!batch.more) break;
    }
    if (total.studies > 0 || total.checkpoints > 0) {
      this.options.logger.info({ ...total, publishedDays: this.options.publishedDays }, 'retention pass');
    }
    return total;
  }

  /** A pass now, then one every intervalMs. A failing pass (disk full) is logged and tried at the next. */
  start(): void {
    const tick = (): void => {
      if (this.closed) return;
      this.runOnce()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'retention pass failed; next one at the interval'))
        .finally(() => {
          if (!this.closed) this.timer = setTimeout(tick, this.options.intervalMs ?? 3_600_000).unref();
        });
    };
    setImmediate(tick);
  }

  /** Stops the timer and waits for a running pass (it ends after its current batch). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
