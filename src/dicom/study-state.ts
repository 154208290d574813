import type {
  InstanceAttributes,
  PatientAttributes,
  ReceiptData,
  SeriesAttributes,
  StudyAttributes,
} from './instance-record.js';
import type { KeyObjectDocument, RejectionReason } from './key-object-document.js';

/**
 * An IHE IOCM rejection: the rejection note (a KOS titled 113001, 113037,
 * 113038 or 113039, scheme DCM) that took an instance out of its study.
 */
export interface Rejection {
  reason: RejectionReason;
  /** SOP Instance UID of the rejecting KOS. */
  kosSopInstanceUid: string;
}

/** A received non-rejection Key Object Selection Document of the study (also listed as a KO instance). */
export interface KeyObjectEntry {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  sopClassUid: string;
  document: KeyObjectDocument;
}

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
  /**
   * The latest received rejection note that rejected instances of this study
   * (whether or not they had arrived). The mapping uses it only when the
   * study has no instances left (status entered-in-error / cancelled).
   */
  rejection?: Rejection;
  /**
   * Non-rejection KOS of the study, in the order of `series` / `instances`,
   * for ImagingSelection / ImagingManifest. Absent when there is none.
   * Rejection notes are never listed here nor as instances.
   */
  keyObjects?: KeyObjectEntry[];
}
