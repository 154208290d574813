import type { Logger } from 'pino';
import type { JobQueue, PublishSchedule } from './job-queue.js';
import type { StudyStore } from './study-store.js';

export interface AggregatorOptions {
  queue: JobQueue;
  store: StudyStore;
  /** Debounce of the publish of each changed study. */
  schedule: PublishSchedule;
  logger: Logger;
}

/**
 * Consumes instance records, merges them into the study store and schedules
 * a debounced publish of each study that changed (architecture.md, step 2).
 * A batch leaves the queue only after this resolves; a crash in between
 * re-merges it, which is idempotent.
 */
export class Aggregator {
  constructor(private readonly options: AggregatorOptions) {}

  start(): void {
    const { queue, store, schedule, logger } = this.options;
    queue.processInstances(async (batch) => {
      const changed = await store.mergeInstances(batch);
      for (const studyInstanceUid of changed) await queue.schedulePublish(studyInstanceUid, schedule);
      logger.debug({ records: batch.length, studies: changed.length }, 'instance batch merged');
    });
  }
}
