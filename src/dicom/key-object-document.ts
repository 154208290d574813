/**
 * What the bridge keeps of a Key Object Selection Document (KOS, PS3.3
 * A.35.4; read by ./key-object.ts): its title, observer, description and the
 * instances it selects, and whether it is an IHE IOCM rejection note.
 */
import type { CodedEntry, PersonName } from './attribute-values.js';

export const KEY_OBJECT_SELECTION_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.88.59';

/** CID 7010 titles that make a KOS an IHE IOCM rejection note (scheme DCM). */
export const REJECTION_REASONS = ['113001', '113037', '113038', '113039'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** One selected SOP instance (optionally a subset of its frames or segments). */
export interface KeyObjectReference {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  /** (0008,1160) Referenced Frame Number: selected frames (1-based), sorted; absent = whole instance. */
  frames?: number[];
  /** (0062,000B) Referenced Segment Number: selected segments, sorted; absent = all. */
  segments?: number[];
  /** (0008,0054) Retrieve AE Title, series level else study level. */
  retrieveAeTitle?: string;
  /** (0008,1190) Retrieve URL, series level else study level. */
  retrieveUrl?: string;
}

export interface KeyObjectDocument {
  /** Root Concept Name Code Sequence (0040,A043): the document title. */
  title: CodedEntry;
  isRejection: boolean;
  rejectionReason?: RejectionReason;
  /** TEXT item (113012, DCM, "Key Object Description"). */
  description?: string;
  /** (0008,0023) raw DA */
  contentDate?: string;
  /** (0008,0033) raw TM */
  contentTime?: string;
  /** Person Observer Name (121008) or Author Observer Sequence person. */
  observer?: PersonName;
  references: KeyObjectReference[];
}

const REJECTION_SET: ReadonlySet<string> = new Set(REJECTION_REASONS);

/** The rejection reason of a title, when it is one of the four IOCM codes with scheme DCM. */
export function rejectionReasonOf(title: CodedEntry | undefined): RejectionReason | undefined {
  if (title?.codingSchemeDesignator?.trim() !== 'DCM') return undefined;
  const code = title.codeValue?.trim();
  return code !== undefined && REJECTION_SET.has(code) ? (code as RejectionReason) : undefined;
}
