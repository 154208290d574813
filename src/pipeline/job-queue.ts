import type { InstanceRecord } from '../dicom/instance-record.js';
import type { Rejection } from '../dicom/study-state.js';

/** Debounce of the publish of one study (architecture.md, step 2). */
export interface PublishSchedule {
  /** Quiet period after the latest instance before the study is published. */
  debounceMs: number;
  /** Longest time between publishes while instances keep arriving. */
  maxDelayMs: number;
}

export type InstanceBatchHandler = (records: InstanceRecord[]) => Promise<void>;
export type PublishHandler = (studyInstanceUid: string) => Promise<void>;

export interface QueueDepth {
  instances: number;
  publishes: number;
  /**
   * Distributed mode: instance records moved to the dead-letter stream after
   * failing too many deliveries (kept whole for an operator; README, Operations).
   */
  deadLetters?: number;
}

/**
 * The two queues of the pipeline: instance records from the SCP to the
 * aggregator, and debounced study publishes from the aggregator to the
 * publisher. Implementations: SQLite (embedded) and BullMQ (distributed).
 */
export interface JobQueue {
  /**
   * Durably enqueue one instance record. Resolves only once the record is
   * committed (the SCP answers C-STORE success after that); rejects when it
   * cannot be (the SCP then answers A700H).
   */
  addInstance(record: InstanceRecord): Promise<void>;
  /**
   * Optional: the rejection check and the enqueue in one step (one round trip
   * in the distributed mode). Resolves undefined once the record is durably
   * queued, or the rejection that names it (then it is not queued); rejects
   * as addInstance. Without it the SCP asks StudyStore.rejectionOf first.
   */
  addInstanceUnlessRejected?(record: InstanceRecord): Promise<Rejection | undefined>;
  /**
   * Run `handler` on batches of queued records until close(). A batch is
   * removed from the queue only after the handler resolves; a rejected or
   * interrupted batch is handed out again.
   */
  processInstances(handler: InstanceBatchHandler): void;
  /**
   * Ask for a publish of the study: one pending publish per study, fired
   * after `debounceMs` of quiet and at most `maxDelayMs` after the first
   * request that is still pending.
   */
  schedulePublish(studyInstanceUid: string, schedule: PublishSchedule): Promise<void>;
  /**
   * Run `handler` for due publishes until close(). At most one publish of a
   * study runs at a time. A rejected handler leaves the study for a retry
   * after `retryDelayMs`.
   */
  processPublishes(handler: PublishHandler, options?: { retryDelayMs?: (attempt: number) => number }): void;
  depth(): Promise<QueueDepth>;
  /** Stop handing out work, wait for running handlers, release resources. */
  close(): Promise<void>;
}
