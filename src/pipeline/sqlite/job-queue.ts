import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { InstanceRecord } from '../../dicom/instance-record.js';
import type { InstanceBatchHandler, JobQueue, PublishHandler, PublishSchedule, QueueDepth } from '../job-queue.js';
import type { StorageCondition } from '../pipeline.js';
import { defaultRetryDelayMs } from '../retry-delay.js';
import { SCHEMA_VERSION } from './database.js';
import { StorageHealth } from './storage-health.js';

export interface SqliteJobQueueOptions {
  db: Database.Database;
  logger: Logger;
  /** Clock of due times (ms since the epoch). Default Date.now. */
  now?: () => number;
  /** Called once, when close() has finished with the database. */
  onClose?: () => void;
  /** Largest instance batch handed to the handler. Default 500. */
  batchSize?: number;
  /** Fallback poll of the instance queue when no event wakes it. Default 5 s. */
  pollIntervalMs?: number;
  /** First delay before a failed instance batch is handed out again (doubles, max 30 s). Default 1 s. */
  instanceRetryDelayMs?: number;
  /** Publishes of different studies that may run at once. Default 4. */
  publishConcurrency?: number;
  /**
   * fsync the commits that acknowledge C-STOREs (SQLite synchronous FULL for
   * those transactions only), so an acknowledged record survives power loss.
   * The other commits (merges, deletions, publish rows) run NORMAL: they are
   * re-derived from the queued records after a crash, and WAL recovery keeps
   * a prefix, so a later fsync makes them durable too. Default true.
   */
  durableIntake?: boolean;
  /**
   * After new records wake the aggregator, wait this long before taking a
   * batch, so a study arriving instance by instance is merged in batches
   * rather than one commit per instance. Default 100 ms (far below the
   * publish debounce).
   */
  gatherMs?: number;
  /** Delay before storage probe `attempt` while writes fail (disk full). Default: the publish retry policy. */
  storageProbeDelayMs?: (attempt: number) => number;
  /** One log line per kind of storage failure and interval. Default 60 s. */
  storageLogIntervalMs?: number;
}

/** Group-commit figures of addInstance since the queue was opened. */
export interface GroupCommitStats {
  /** Transactions that inserted instance records. */
  commits: number;
  /** Records those transactions inserted. */
  records: number;
  /** Most records in one transaction. */
  largestCommit: number;
}

/** The publish row of one study, as stored (for tests and the admin view). */
export interface PublishRow {
  studyInstanceUid: string;
  dueAt: number;
  firstRequestedAt: number;
  attempts: number;
}

interface PendingAdd {
  json: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A publish whose end could not be recorded (the disk refuses writes): not restarted before `until`. */
interface HeldPublish {
  attempts: number;
  until: number;
}

interface RunningPublish {
  /** A schedulePublish for the study arrived while this publish ran. */
  rerequested: boolean;
}

interface PublishJobRow {
  study_uid: string;
  due_at: number;
  first_requested_at: number;
  attempts: number;
}

/** Longest single timer; due times further away are re-checked then. */
const MAX_TIMER_MS = 60_000;
/** Cap on a server's Retry-After that the publish queue honours. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * JobQueue on SQLite. addInstance group-commits: every record added before
 * the pending flush runs (setImmediate) goes into one transaction, and each
 * promise resolves only after that transaction committed. better-sqlite3 is
 * synchronous, so a commit blocks the event loop for its fsync; socket data
 * that arrives meanwhile is read afterwards and lands in the next batch.
 */
export class SqliteJobQueue implements JobQueue {
  private readonly db: Database.Database;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly onClose: (() => void) | undefined;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly instanceRetryDelayMs: number;
  private readonly publishConcurrency: number;
  private readonly durableIntake: boolean;
  private readonly gatherMs: number;

  private readonly stmt: {
    insertInstance: Database.Statement<[string]>;
    selectInstances: Database.Statement<[number], { seq: number; record: string }>;
    deleteInstancesUpTo: Database.Statement<[number]>;
    countInstances: Database.Statement<[], { n: number }>;
    selectPublish: Database.Statement<[string], PublishJobRow>;
    upsertPublish: Database.Statement<[string, number, number, number]>;
    selectPublishesByDue: Database.Statement<[number], PublishJobRow>;
    deletePublish: Database.Statement<[string]>;
    updatePublishRetry: Database.Statement<[number, number, string]>;
    resetPublishAttempts: Database.Statement<[string]>;
    countPublishes: Database.Statement<[], { n: number }>;
  };
  private readonly insertInstances: (jsons: string[]) => void;

  private pendingAdds: PendingAdd[] = [];
  private flushScheduled = false;
  private readonly commitStats: GroupCommitStats = { commits: 0, records: 0, largestCommit: 0 };

  private closing = false;
  private closed: Promise<void> | undefined;
  private instanceLoop: Promise<void> | undefined;
  private wakeInstances: (() => void) | undefined;
  private readonly sleepers = new Set<() => void>();

  private publishHandler: PublishHandler | undefined;
  private retryDelayMs: (attempt: number) => number = defaultRetryDelayMs;
  private readonly running = new Map<string, RunningPublish>();
  private readonly held = new Map<string, HeldPublish>();
  private readonly health: StorageHealth;
  private readonly runningPromises = new Set<Promise<void>>();
  private publishTimer: NodeJS.Timeout | undefined;

  constructor(options: SqliteJobQueueOptions) {
    this.db = options.db;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.onClose = options.onClose;
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.instanceRetryDelayMs = options.instanceRetryDelayMs ?? 1_000;
    this.publishConcurrency = options.publishConcurrency ?? 4;
    this.durableIntake = options.durableIntake ?? true;
    this.gatherMs = options.gatherMs ?? 100;
    const db = this.db;
    // Rewriting the header's user_version (same value) writes page 1: a real write, no schema change.
    const probe = db.prepare(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    this.health = new StorageHealth({
      logger: this.logger,
      probe: () => {
        this.synchronousFull.run();
        try {
          probe.run();
        } finally {
          this.synchronousNormal.run();
        }
      },
      ...(options.storageProbeDelayMs ? { probeDelayMs: options.storageProbeDelayMs } : {}),
      ...(options.storageLogIntervalMs !== undefined ? { logIntervalMs: options.storageLogIntervalMs } : {}),
    });
    this.stmt = {
      insertInstance: db.prepare('INSERT INTO instance_jobs (record) VALUES (?)'),
      selectInstances: db.prepare('SELECT seq, record FROM instance_jobs ORDER BY seq LIMIT ?'),
      deleteInstancesUpTo: db.prepare('DELETE FROM instance_jobs WHERE seq <= ?'),
      countInstances: db.prepare('SELECT COUNT(*) AS n FROM instance_jobs'),
      selectPublish: db.prepare('SELECT * FROM publish_jobs WHERE study_uid = ?'),
      upsertPublish: db.prepare(
        `INSERT INTO publish_jobs (study_uid, due_at, first_requested_at, attempts) VALUES (?, ?, ?, ?)
         ON CONFLICT (study_uid) DO UPDATE SET due_at = excluded.due_at,
           first_requested_at = excluded.first_requested_at, attempts = excluded.attempts`,
      ),
      selectPublishesByDue: db.prepare('SELECT * FROM publish_jobs ORDER BY due_at LIMIT ?'),
      deletePublish: db.prepare('DELETE FROM publish_jobs WHERE study_uid = ?'),
      updatePublishRetry: db.prepare('UPDATE publish_jobs SET due_at = ?, attempts = ? WHERE study_uid = ?'),
      resetPublishAttempts: db.prepare('UPDATE publish_jobs SET attempts = 0 WHERE study_uid = ?'),
      countPublishes: db.prepare('SELECT COUNT(*) AS n FROM publish_jobs'),
    };
    this.insertInstances = db.transaction((jsons: string[]) => {
      for (const json of jsons) this.stmt.insertInstance.run(json);
    });
    // Prepared once: db.pragma() parses its SQL on every call, twice per intake commit.
    this.synchronousFull = db.prepare('PRAGMA synchronous = FULL');
    this.synchronousNormal = db.prepare('PRAGMA synchronous = NORMAL');
  }

  private readonly synchronousFull: Database.Statement;
  private readonly synchronousNormal: Database.Statement;

  // ---- instance queue -------------------------------------------------------

  addInstance(record: InstanceRecord): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the instance queue is closed'));
    let json: string;
    try {
      json = JSON.stringify(record);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      this.pendingAdds.push({ json, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushAdds());
      }
    });
  }

  /** Commits every record added so far in one transaction, then settles their promises. */
  private flushAdds(): void {
    this.flushScheduled = false;
    const batch = this.pendingAdds;
    if (batch.length === 0) return;
    this.pendingAdds = [];
    try {
      if (this.durableIntake) this.synchronousFull.run();
      try {
        this.insertInstances(batch.map((add) => add.json));
      } finally {
        if (this.durableIntake) this.synchronousNormal.run();
      }
    } catch (err) {
      // A full disk refuses every C-STORE: one line per interval, not one per store.
      if (!this.health.failed(err, 'could not commit instance records', { records: batch.length })) {
        this.logger.error({ err, records: batch.length }, 'could not commit instance records');
      }
      for (const add of batch) add.reject(err);
      return;
    }
    this.health.succeeded();
    this.commitStats.commits++;
    this.commitStats.records += batch.length;
    this.commitStats.largestCommit = Math.max(this.commitStats.largestCommit, batch.length);
    for (const add of batch) add.resolve();
    this.wakeInstances?.();
  }

  /** Whether writes work (readiness, /status). */
  storageCondition(): StorageCondition {
    return this.health.condition();
  }

  /** Group-commit counters (how many transactions the added records took). */
  stats(): GroupCommitStats {
    return { ...this.commitStats };
  }

  processInstances(handler: InstanceBatchHandler): void {
    if (this.instanceLoop !== undefined) throw new Error('processInstances was already called');
    if (this.closing) return;
    this.instanceLoop = this.runInstanceLoop(handler);
  }

  private async runInstanceLoop(handler: InstanceBatchHandler): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      let rows: { seq: number; record: string }[];
      try {
        rows = this.stmt.selectInstances.all(this.batchSize);
      } catch (err) {
        this.logger.error({ err }, 'could not read the instance queue');
        await this.sleep(this.pollIntervalMs);
        continue;
      }
      if (rows.length === 0) {
        await this.waitForInstances();
        if (this.gatherMs > 0) await this.sleep(this.gatherMs);
        continue;
      }
      try {
        await handler(rows.map((row) => JSON.parse(row.record) as InstanceRecord));
        this.stmt.deleteInstancesUpTo.run(rows[rows.length - 1]!.seq);
        this.health.succeeded();
        failures = 0;
      } catch (err) {
        failures++;
        const delay = Math.min(this.instanceRetryDelayMs * 2 ** (failures - 1), 30_000);
        const fields = { records: rows.length, retryInMs: delay };
        if (!this.health.failed(err, 'instance batch failed; it will be handed out again', fields)) {
          this.logger.error({ err, ...fields }, 'instance batch failed; it will be handed out again');
        }
        await this.sleep(delay);
      }
    }
  }

  /** Resolves on a new commit, on close, or after the fallback poll interval. */
  private waitForInstances(): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeInstances = undefined;
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      this.wakeInstances = done;
      this.sleepers.add(done);
    });
  }

  /** A delay that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  // ---- publish queue --------------------------------------------------------

  async schedulePublish(studyInstanceUid: string, schedule: PublishSchedule): Promise<void> {
    if (this.closing) throw new Error('the publish queue is closed');
    const now = this.now();
    const row = this.stmt.selectPublish.get(studyInstanceUid);
    const running = this.running.get(studyInstanceUid);
    // The row of a running publish that nobody re-requested stands for the
    // request being served: a new request starts a new pending period.
    if (row === undefined || (running !== undefined && !running.rerequested)) {
      const due = now + Math.min(schedule.debounceMs, schedule.maxDelayMs);
      this.stmt.upsertPublish.run(studyInstanceUid, due, now, row?.attempts ?? 0);
    } else {
      let due = Math.min(now + schedule.debounceMs, row.first_requested_at + schedule.maxDelayMs);
      // New data does not cut short the backoff after a failed publish.
      if (row.attempts > 0) due = Math.max(due, row.due_at);
      this.stmt.upsertPublish.run(studyInstanceUid, due, row.first_requested_at, row.attempts);
    }
    if (running !== undefined) running.rerequested = true;
    if (this.publishHandler !== undefined) this.pumpPublishes();
  }

  /** The stored publish row of a study, if one is pending. */
  publishRow(studyInstanceUid: string): PublishRow | undefined {
    const row = this.stmt.selectPublish.get(studyInstanceUid);
    return row === undefined
      ? undefined
      : { studyInstanceUid: row.study_uid, dueAt: row.due_at, firstRequestedAt: row.first_requested_at, attempts: row.attempts };
  }

  processPublishes(handler: PublishHandler, options?: { retryDelayMs?: (attempt: number) => number }): void {
    if (this.publishHandler !== undefined) throw new Error('processPublishes was already called');
    if (this.closing) return;
    this.publishHandler = handler;
    if (options?.retryDelayMs !== undefined) this.retryDelayMs = options.retryDelayMs;
    this.pumpPublishes();
  }

  /** Starts every due publish a free slot allows, then sets the timer to the next due time. */
  private pumpPublishes(): void {
    if (this.closing || this.publishHandler === undefined) return;
    if (this.publishTimer !== undefined) {
      clearTimeout(this.publishTimer);
      this.publishTimer = undefined;
    }
    const now = this.now();
    let rows: PublishJobRow[];
    let heldUntil = Number.POSITIVE_INFINITY;
    try {
      // Enough rows to skip the running ones, fill every free slot and see the next due time.
      rows = this.stmt.selectPublishesByDue.all(2 * this.publishConcurrency + 2);
    } catch (err) {
      this.logger.error({ err }, 'could not read the publish queue');
      this.armPublishTimer(this.pollIntervalMs);
      return;
    }
    for (const row of rows) {
      if (this.running.has(row.study_uid)) continue;
      const held = this.held.get(row.study_uid);
      if (held !== undefined && held.until > now) {
        heldUntil = Math.min(heldUntil, held.until);
        continue;
      }
      if (row.due_at > now) {
        this.armPublishTimer(Math.min(row.due_at, heldUntil) - now);
        return;
      }
      // Due, but every slot is busy: the end of a running publish pumps again.
      if (this.running.size >= this.publishConcurrency) return;
      this.startPublish(row.study_uid, this.publishHandler);
    }
    // Every row read was started or running: rows past the limit, if any, are read at the next pump.
    if (rows.length === 2 * this.publishConcurrency + 2 && this.running.size < this.publishConcurrency) {
      this.armPublishTimer(0);
    } else if (heldUntil !== Number.POSITIVE_INFINITY) {
      this.armPublishTimer(heldUntil - now);
    }
  }

  private armPublishTimer(delayMs: number): void {
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      this.pumpPublishes();
    }, Math.max(0, Math.min(delayMs, MAX_TIMER_MS)));
  }

  private startPublish(studyInstanceUid: string, handler: PublishHandler): void {
    const entry: RunningPublish = { rerequested: false };
    this.running.set(studyInstanceUid, entry);
    const run = (async () => {
      let failure: { err: unknown } | undefined;
      try {
        await handler(studyInstanceUid);
      } catch (err) {
        failure = { err };
      }
      try {
        if (failure === undefined) this.publishSucceeded(studyInstanceUid, entry);
        else this.publishFailed(studyInstanceUid, failure.err);
        this.held.delete(studyInstanceUid);
        this.health.succeeded();
      } catch (err) {
        // The row stays as it was: the study is published again, after the
        // same backoff as a failed publish (kept here, as the row cannot be
        // written), not at once in a loop while the disk is full.
        const attempts = this.attemptsBefore(studyInstanceUid) + 1;
        const retryInMs = this.retryDelayMs(attempts);
        this.held.set(studyInstanceUid, { attempts, until: this.now() + retryInMs });
        const fields = { studyInstanceUid, attempts, retryInMs };
        if (!this.health.failed(err, 'could not record the end of a publish', fields)) {
          this.logger.error({ err, ...fields }, 'could not record the end of a publish');
        }
      } finally {
        this.running.delete(studyInstanceUid);
      }
    })();
    this.runningPromises.add(run);
    void run.finally(() => {
      this.runningPromises.delete(run);
      this.pumpPublishes();
    });
  }

  private publishSucceeded(studyInstanceUid: string, entry: RunningPublish): void {
    if (this.db.open === false) return;
    // A request that came in meanwhile keeps its row, so the newest instances get published.
    if (entry.rerequested) this.stmt.resetPublishAttempts.run(studyInstanceUid);
    else this.stmt.deletePublish.run(studyInstanceUid);
  }

  /** Failed attempts so far: the row's, or more if some of them could not be recorded (held). */
  private attemptsBefore(studyInstanceUid: string, row?: PublishJobRow): number {
    let stored = row?.attempts ?? 0;
    if (row === undefined) {
      try {
        stored = this.stmt.selectPublish.get(studyInstanceUid)?.attempts ?? 0;
      } catch {
        // Unreadable too: the held count is what is known.
      }
    }
    return Math.max(stored, this.held.get(studyInstanceUid)?.attempts ?? 0);
  }

  private publishFailed(studyInstanceUid: string, err: unknown): void {
    if (this.db.open === false) return;
    const row = this.stmt.selectPublish.get(studyInstanceUid);
    const attempts = this.attemptsBefore(studyInstanceUid, row) + 1;
    let delay = this.retryDelayMs(attempts);
    const retryAfterMs = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs)) {
      delay = Math.max(delay, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
    }
    const now = this.now();
    const due = Math.max(now + delay, row?.due_at ?? 0);
    if (row === undefined) this.stmt.upsertPublish.run(studyInstanceUid, due, now, attempts);
    else this.stmt.updatePublishRetry.run(due, attempts, studyInstanceUid);
    this.logger.warn(
      // The error itself: the logger's serializer keeps a FHIR server's text (patient data) out.
      { studyInstanceUid, attempts, retryInMs: due - now, err },
      'publish failed; will retry',
    );
  }

  // ---- both -------------------------------------------------------------------

  async depth(): Promise<QueueDepth> {
    return {
      instances: this.stmt.countInstances.get()!.n + this.pendingAdds.length,
      publishes: this.stmt.countPublishes.get()!.n,
    };
  }

  close(): Promise<void> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    this.health.close();
    if (this.publishTimer !== undefined) clearTimeout(this.publishTimer);
    for (const wake of [...this.sleepers]) wake();
    // Records already handed to addInstance still get committed.
    this.flushAdds();
    await this.instanceLoop;
    await Promise.allSettled([...this.runningPromises]);
    this.onClose?.();
  }
}
