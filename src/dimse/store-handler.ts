import type { InstanceRecord } from '../dicom/instance-record.js';

/**
 * What the SCP does with a parsed instance. The C-STORE-RSP waits for the
 * returned promise: resolved (void) answers Success 0000H; resolved with a
 * status answers that status (e.g. a B-range warning); rejected answers
 * A700H Refused: Out of Resources, so the sender keeps the instance.
 */
export interface StoreOutcome {
  status: number;
  errorComment?: string;
}

export type StoreHandler = (record: InstanceRecord) => Promise<void | StoreOutcome>;
