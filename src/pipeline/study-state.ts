import type {
  InstanceAttributes,
  PatientAttributes,
  ReceiptData,
  SeriesAttributes,
  StudyAttributes,
} from '../dicom/instance-record.js';

/**
 * The aggregated state of one study: what the mapping turns into an
 * ImagingStudy. Patient, study and series attributes are those of the latest
 * received instance (latest wins); instances are distinct by SOP Instance UID.
 */
export interface SeriesState {
  attributes: SeriesAttributes;
  /** Distinct by sopInstanceUid, ordered by instance number then UID. */
  instances: InstanceAttributes[];
}

export interface StudyState {
  studyInstanceUid: string;
  specificCharacterSet?: string;
  patient: PatientAttributes;
  study: StudyAttributes;
  /** Ordered by series number then UID. */
  series: SeriesState[];
  /** Receipt data of the latest received instance (calling AE selects peer settings). */
  lastReceipt: ReceiptData;
  firstReceivedAt: string;
  lastReceivedAt: string;
}

export type PublishState = 'pending' | 'published' | 'failed';
