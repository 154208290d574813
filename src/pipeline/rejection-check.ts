/**
 * The SCP side of IHE IOCM rejection notes: an instance that a rejection note
 * (KOS titled 113001, 113037, 113038 or 113039, scheme DCM) has rejected and
 * that is sent again is not stored and not queued, and the sender is told so
 * with a warning instead of a silent success.
 *
 * Status: B006H "Elements Discarded" (PS3.4 Annex B.2.3, Table B.2-1, Storage
 * Service Class C-STORE statuses). The three warning statuses are B000H
 * Coercion of Data Elements (the SCP changed attribute values), B007H Data Set
 * does not match SOP Class, and B006H Elements Discarded (the SCP discarded
 * elements of the data set): only B006H describes throwing (here all of) the
 * data away. A warning, not a failure (A7xxH/A9xxH/Cxxx), because the
 * sender must not retry: the instance is handled as the archive wants (IOCM:
 * rejected instances stay out), so a retry would only repeat the answer. The
 * Error Comment (0000,0902, LO: at most 64 characters) names the note and
 * reason for the sender's log.
 *
 * Not queued (a re-send would change nothing: the merge skips rejected
 * instances anyway, which also covers a re-send that races with the merge of
 * its rejection note). When the store can't be asked, the record is queued
 * as usual: the merge applies the rejection, so availability wins over the
 * warning.
 *
 * A queue that checks and queues in one step (JobQueue.addInstanceUnlessRejected:
 * the distributed mode, one script per C-STORE) is asked that instead of
 * store.rejectionOf then queue.addInstance (the embedded mode, where both are
 * in-process). Same answers; a record without its UIDs is only queued.
 */
import { isStorageStalled } from './sqlite/storage-health.js';
import { errorMessage } from '../errors.js';
import type { Logger } from 'pino';
import type { StoreHandler, StoreOutcome } from '../dimse/store-handler.js';
import type { JobQueue } from './job-queue.js';
import type { Rejection } from '../dicom/study-state.js';
import type { StudyStore } from './study-store.js';

/** (0000,0900) Warning: Elements Discarded (PS3.4 Table B.2-1). */
export const STATUS_ELEMENTS_DISCARDED = 0xb006;

/** Error Comment (0000,0902) is LO: 64 characters at most. */
const MAX_ERROR_COMMENT = 64;

export interface RejectionCheckOptions {
  store: Pick<StudyStore, 'rejectionOf'>;
  queue: Pick<JobQueue, 'addInstance' | 'addInstanceUnlessRejected'>;
  logger: Logger;
}

/** The warning answered for a re-sent rejected instance. */
export function rejectedOutcome(rejection: Rejection): StoreOutcome {
  const { kosSopInstanceUid: kos, reason } = rejection;
  const candidates = [
    `rejected by KOS ${kos} (DCM ${reason}); not stored`,
    `rejected by KOS ${kos} (DCM ${reason})`,
    `rejected by KOS ${kos}`,
    `rejected (DCM ${reason}); not stored`,
  ];
  const errorComment = candidates.find((c) => c.length <= MAX_ERROR_COMMENT)!;
  return { status: STATUS_ELEMENTS_DISCARDED, errorComment };
}

/**
 * The SCP's StoreHandler: a rejected instance gets B006H and is dropped;
 * anything else is queued (success after the queue commits it).
 */
export function rejectionCheckingStoreHandler(options: RejectionCheckOptions): StoreHandler {
  const { store, queue, logger } = options;
  return async (record) => {
    const studyUid = record.study?.studyInstanceUid;
    const sopUid = record.instance?.sopInstanceUid;
    let rejection: Rejection | undefined;
    if (queue.addInstanceUnlessRejected && studyUid && sopUid) {
      rejection = await queue.addInstanceUnlessRejected(record);
      if (rejection === undefined) return;
    } else if (studyUid && sopUid) {
      try {
        rejection = await store.rejectionOf(studyUid, sopUid);
      } catch (err) {
        // Stalled storage: addInstance refuses it too, and the stall is logged once, not per C-STORE.
        if (!isStorageStalled(err)) {
          logger.warn({ studyUid, sopUid, err: errorMessage(err) }, 'rejection check failed; instance queued');
        }
      }
    }
    if (rejection === undefined) return queue.addInstance(record);
    logger.info(
      { studyUid, sopUid, kosSopInstanceUid: rejection.kosSopInstanceUid, reason: rejection.reason, callingAeTitle: record.receipt.callingAeTitle },
      'rejected instance received again: not stored (B006)',
    );
    return rejectedOutcome(rejection);
  };
}
