import type { Logger } from 'pino';
import type { InstanceRecord } from '../../dicom/instance-record.js';
import type { InstanceBatchHandler, JobQueue, PublishHandler, PublishSchedule, QueueDepth } from '../job-queue.js';
import type { StorageCondition } from '../pipeline.js';
import { defaultRetryDelayMs } from '../retry-delay.js';
import type { DatabaseClient } from './database-client.js';
import type { PublishJobRow, SqliteQueueTables } from './queue-tables.js';
import { StorageHealth, StorageStalledError } from './storage-health.js';

/** SqliteQueueTables' methods as the event loop calls them: in the database worker, answered by promise. */
type RemoteTables = { [K in keyof SqliteQueueTables]: (...args: Parameters<SqliteQueueTables[K]>) => Promise<ReturnType<SqliteQueueTables[K]>> };

export interface SqliteJobQueueOptions {
  /** The database worker (database-client.ts) that runs the queue's statements (queue-tables.ts). */
  database: DatabaseClient;
  logger: Logger;
  /**
   * STORAGE_COMMIT_TIMEOUT_MS: an added record not committed within this
   * long is refused (StorageStalledError: A700H at the SCP). Its commit may
   * still complete later: the sender sends it again and the merge keys it by
   * SOP Instance UID. Default 10 s.
   */
  commitTimeoutMs?: number;
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
  /** Refuses the add after commitTimeoutMs. */
  timer: NodeJS.Timeout;
  /** Answered already (refused when the commit took too long). */
  settled: boolean;
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

/** Longest single timer; due times further away are re-checked then. */
const MAX_TIMER_MS = 60_000;
/** Cap on a server's Retry-After that the publish queue honours. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * JobQueue on SQLite. addInstance group-commits: every record added while
 * no commit is under way goes into one transaction at the next setImmediate,
 * every record added during a commit into the next one, and each promise
 * resolves only after its transaction committed. The statements run in the
 * database worker (queue-tables.ts), so the event loop goes on reading
 * sockets during an fsync, and during a disk that does not answer at all: a
 * record not committed within commitTimeoutMs is refused, and while the
 * worker is stalled new records are refused at once.
 */
export class SqliteJobQueue implements JobQueue {
  private readonly database: DatabaseClient;
  private readonly tables: RemoteTables;
  private readonly commitTimeoutMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly onClose: (() => void) | undefined;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly instanceRetryDelayMs: number;
  private readonly publishConcurrency: number;
  private readonly durableIntake: boolean;
  private readonly gatherMs: number;

  private pendingAdds: PendingAdd[] = [];
  private flushScheduled = false;
  /** The intake commit under way, if any. */
  private committing: Promise<void> | undefined;
  /** Compound publish-row updates (read, then write) one after another, as they were atomic on one thread. */
  private rowUpdates: Promise<unknown> = Promise.resolve();
  /** A pump is running; pumpAgain: another was asked for meanwhile. */
  private pumping = false;
  private pumpAgain = false;
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
    this.database = options.database;
    this.commitTimeoutMs = options.commitTimeoutMs ?? 10_000;
    const database = this.database;
    this.tables = new Proxy({} as RemoteTables, {
      get: (_target, method: string) => (...args: unknown[]) => database.call('queue', method, args),
    });
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.onClose = options.onClose;
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.instanceRetryDelayMs = options.instanceRetryDelayMs ?? 1_000;
    this.publishConcurrency = options.publishConcurrency ?? 4;
    this.durableIntake = options.durableIntake ?? true;
    this.gatherMs = options.gatherMs ?? 100;
    this.health = new StorageHealth({
      logger: this.logger,
      probe: () => this.tables.probe(),
      ...(options.storageProbeDelayMs ? { probeDelayMs: options.storageProbeDelayMs } : {}),
      ...(options.storageLogIntervalMs !== undefined ? { logIntervalMs: options.storageLogIntervalMs } : {}),
    });
    database.watch({
      stalled: (timeoutMs) => {
        this.health.stalled(timeoutMs);
        this.refuseWaitingAdds();
      },
      progressed: () => this.health.progressed(),
    });
  }

  // ---- instance queue -------------------------------------------------------

  addInstance(record: InstanceRecord): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the instance queue is closed'));
    // Stalled: refused at once rather than queued behind the commit the disk does not answer.
    if (this.database.isStalled()) return Promise.reject(new StorageStalledError(this.commitTimeoutMs));
    let json: string;
    try {
      json = JSON.stringify(record);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      const add: PendingAdd = {
        json,
        resolve,
        reject,
        settled: false,
        timer: setTimeout(() => {
          add.settled = true;
          reject(new StorageStalledError(this.commitTimeoutMs));
        }, this.commitTimeoutMs),
      };
      this.pendingAdds.push(add);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.committing !== undefined) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flushAdds());
  }

  /** The records waiting for the next commit, refused at once: the worker stalled (their commit would wait behind it). */
  private refuseWaitingAdds(): void {
    const waiting = this.pendingAdds;
    this.pendingAdds = [];
    const err = new StorageStalledError(this.commitTimeoutMs);
    for (const add of waiting) {
      clearTimeout(add.timer);
      if (!add.settled) add.reject(err);
    }
  }

  /** Commits every record added so far in one transaction, then settles their promises; the next batch follows. */
  private flushAdds(): Promise<void> {
    this.flushScheduled = false;
    if (this.committing !== undefined) return this.committing;
    const batch = this.pendingAdds.filter((add) => !add.settled);
    this.pendingAdds = [];
    if (batch.length === 0) return Promise.resolve();
    this.committing = this.commit(batch).finally(() => {
      this.committing = undefined;
      if (this.pendingAdds.length > 0) this.scheduleFlush();
    });
    return this.committing;
  }

  private async commit(batch: PendingAdd[]): Promise<void> {
    try {
      await this.tables.insertInstances(
        batch.map((add) => add.json),
        this.durableIntake,
      );
    } catch (err) {
      for (const add of batch) clearTimeout(add.timer);
      // A full disk refuses every C-STORE: one line per interval, not one per store.
      if (!this.health.failed(err, 'could not commit instance records', { records: batch.length })) {
        this.logger.error({ err, records: batch.length }, 'could not commit instance records');
      }
      for (const add of batch) if (!add.settled) add.reject(err);
      return;
    }
    this.health.succeeded();
    this.commitStats.commits++;
    this.commitStats.records += batch.length;
    this.commitStats.largestCommit = Math.max(this.commitStats.largestCommit, batch.length);
    let late = 0;
    for (const add of batch) {
      clearTimeout(add.timer);
      if (add.settled) late++;
      else add.resolve();
    }
    if (late > 0) {
      this.logger.warn(
        { records: late, commitTimeoutMs: this.commitTimeoutMs },
        'records committed after their C-STORE was refused (storage stalled): the sender sends them again, merged by SOP Instance UID',
      );
    }
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
        rows = await this.tables.selectInstances(this.batchSize);
      } catch (err) {
        // Stalled: logged once by the storage health, not once per poll.
        if (!this.health.failed(err, 'could not read the instance queue')) this.logger.error({ err }, 'could not read the instance queue');
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
        await this.tables.deleteInstancesUpTo(rows[rows.length - 1]!.seq);
        this.health.succeeded();
        failures = 0;
        // A short batch means records trickle in (one association): gather before the next one, so the
        // merge takes many records per transaction instead of one or two, each with its own fsyncs that
        // the intake commit (a C-STORE waiting for its answer) queues behind in the database worker.
        if (rows.length < this.batchSize && this.gatherMs > 0) await this.sleep(this.gatherMs);
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

  /** Runs `update` after the compound publish-row updates before it (each reads a row, then writes it). */
  private serially<T>(update: () => Promise<T>): Promise<T> {
    const result = this.rowUpdates.then(update);
    this.rowUpdates = result.catch(() => {});
    return result;
  }

  async schedulePublish(studyInstanceUid: string, schedule: PublishSchedule): Promise<void> {
    if (this.closing) throw new Error('the publish queue is closed');
    await this.serially(() => this.storePublishRequest(studyInstanceUid, schedule));
    if (this.publishHandler !== undefined) this.pumpPublishes();
  }

  private async storePublishRequest(studyInstanceUid: string, schedule: PublishSchedule): Promise<void> {
    const row = await this.tables.selectPublish(studyInstanceUid);
    const now = this.now();
    const running = this.running.get(studyInstanceUid);
    // The row of a running publish that nobody re-requested stands for the
    // request being served: a new request starts a new pending period.
    if (row === undefined || (running !== undefined && !running.rerequested)) {
      const due = now + Math.min(schedule.debounceMs, schedule.maxDelayMs);
      await this.tables.upsertPublish(studyInstanceUid, due, now, row?.attempts ?? 0);
    } else {
      let due = Math.min(now + schedule.debounceMs, row.first_requested_at + schedule.maxDelayMs);
      // New data does not cut short the backoff after a failed publish.
      if (row.attempts > 0) due = Math.max(due, row.due_at);
      await this.tables.upsertPublish(studyInstanceUid, due, row.first_requested_at, row.attempts);
    }
    if (running !== undefined) running.rerequested = true;
  }

  /** The stored publish row of a study, if one is pending. */
  async publishRow(studyInstanceUid: string): Promise<PublishRow | undefined> {
    const row = await this.tables.selectPublish(studyInstanceUid);
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

  /** pumpOnce, one at a time: a pump asked for while one runs runs after it. */
  private pumpPublishes(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pumpOnce().finally(() => {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.pumpPublishes();
      }
    });
  }

  /** Starts every due publish a free slot allows, then sets the timer to the next due time. */
  private async pumpOnce(): Promise<void> {
    if (this.closing || this.publishHandler === undefined) return;
    if (this.publishTimer !== undefined) {
      clearTimeout(this.publishTimer);
      this.publishTimer = undefined;
    }
    let rows: PublishJobRow[];
    let heldUntil = Number.POSITIVE_INFINITY;
    try {
      // Enough rows to skip the running ones, fill every free slot and see the next due time.
      rows = await this.serially(() => this.tables.selectPublishesByDue(2 * this.publishConcurrency + 2));
    } catch (err) {
      if (!this.health.failed(err, 'could not read the publish queue')) this.logger.error({ err }, 'could not read the publish queue');
      this.armPublishTimer(this.pollIntervalMs);
      return;
    }
    if (this.closing || this.publishHandler === undefined) return;
    const now = this.now();
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
        if (failure === undefined) await this.serially(() => this.publishSucceeded(studyInstanceUid, entry));
        else await this.serially(() => this.publishFailed(studyInstanceUid, failure.err));
        this.held.delete(studyInstanceUid);
        this.health.succeeded();
      } catch (err) {
        // The row stays as it was: the study is published again, after the
        // same backoff as a failed publish (kept here, as the row cannot be
        // written), not at once in a loop while the disk is full.
        const attempts = (await this.attemptsBefore(studyInstanceUid)) + 1;
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

  private async publishSucceeded(studyInstanceUid: string, entry: RunningPublish): Promise<void> {
    // A request that came in meanwhile keeps its row, so the newest instances get published.
    if (entry.rerequested) await this.tables.resetPublishAttempts(studyInstanceUid);
    else await this.tables.deletePublish(studyInstanceUid);
  }

  /** Failed attempts so far: the row's, or more if some of them could not be recorded (held). */
  private async attemptsBefore(studyInstanceUid: string, row?: PublishJobRow): Promise<number> {
    let stored = row?.attempts ?? 0;
    if (row === undefined) {
      try {
        stored = (await this.tables.selectPublish(studyInstanceUid))?.attempts ?? 0;
      } catch {
        // Unreadable too: the held count is what is known.
      }
    }
    return Math.max(stored, this.held.get(studyInstanceUid)?.attempts ?? 0);
  }

  private async publishFailed(studyInstanceUid: string, err: unknown): Promise<void> {
    const row = await this.tables.selectPublish(studyInstanceUid);
    const attempts = (await this.attemptsBefore(studyInstanceUid, row)) + 1;
    let delay = this.retryDelayMs(attempts);
    const retryAfterMs = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs)) {
      delay = Math.max(delay, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
    }
    const now = this.now();
    const due = Math.max(now + delay, row?.due_at ?? 0);
    if (row === undefined) await this.tables.upsertPublish(studyInstanceUid, due, now, attempts);
    else await this.tables.updatePublishRetry(due, attempts, studyInstanceUid);
    this.logger.warn(
      // The error itself: the logger's serializer keeps a FHIR server's text (patient data) out.
      { studyInstanceUid, attempts, retryInMs: due - now, err },
      'publish failed; will retry',
    );
  }

  // ---- both -------------------------------------------------------------------

  async depth(): Promise<QueueDepth> {
    const counts = await this.tables.counts();
    return { instances: counts.instances + this.pendingAdds.length, publishes: counts.publishes };
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
    // Records already handed to addInstance still get committed (after the commit under way).
    await this.committing;
    await this.flushAdds();
    await this.instanceLoop;
    await Promise.allSettled([...this.runningPromises]);
    this.onClose?.();
  }
}
