import type { PublishState } from '../study-store.js';

/** A row of the studies table (database.ts). */
export interface StudyRow {
  study_uid: string;
  specific_character_set: string | null;
  patient: string;
  study: string;
  last_receipt: string;
  first_received_at: string;
  last_received_at: string;
  publish_state: PublishState;
  attempts: number;
  last_error: string | null;
  note: string | null;
  published_at: string | null;
  last_resource: string | null;
  resource_id: string | null;
  origins: string | null;
}
