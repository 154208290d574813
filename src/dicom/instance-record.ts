/**
 * What the bridge keeps of one received instance: the attributes the FHIR
 * mapping needs (see ../shared/docs/mapping.md), grouped by the level of the
 * DICOM information model they belong to, plus receipt data. Plain JSON: it
 * is queued, stored and merged as is. Strings are decoded with the dataset's
 * Specific Character Set and trimmed of DICOM padding; absent or empty
 * attributes are left out (never empty strings, never 0 for a missing number).
 */
import type { CodedEntry, HierarchicDesignator, PersonName } from './attribute-values.js';
import type { KeyObjectDocument } from './key-object-document.js';

export interface PatientAttributes {
  /** (0010,0010) */
  patientName?: PersonName;
  /** (0010,0020) */
  patientId?: string;
  /** (0010,0021) */
  issuerOfPatientId?: string;
  /** (0010,0024) Issuer of Patient ID Qualifiers Sequence, first item. */
  issuerOfPatientIdQualifiers?: HierarchicDesignator;
  /** (0010,0030) raw DA */
  patientBirthDate?: string;
  /** (0010,0040) */
  patientSex?: string;
}

export interface StudyAttributes {
  /** (0020,000D) */
  studyInstanceUid: string;
  /** (0008,0020) raw DA */
  studyDate?: string;
  /** (0008,0030) raw TM */
  studyTime?: string;
  /** (0008,0201) raw SH, e.g. "+0100" */
  timezoneOffsetFromUtc?: string;
  /** (0008,0050) */
  accessionNumber?: string;
  /** (0008,0051) Issuer of Accession Number Sequence, first item. */
  issuerOfAccessionNumber?: HierarchicDesignator;
  /** (0020,0010) */
  studyId?: string;
  /** (0008,1030) */
  studyDescription?: string;
  /** (0008,0090) */
  referringPhysicianName?: PersonName;
  /** (0008,1060) */
  physiciansReadingStudy?: PersonName[];
  /** (0008,1032) */
  procedureCodes?: CodedEntry[];
  /** (0032,1064) */
  requestedProcedureCodes?: CodedEntry[];
  /** (0032,1060): the MADO manifest's procedure text when (0008,1032) has none. */
  requestedProcedureDescription?: string;
  /** (0040,1002) */
  reasonForRequestedProcedure?: string;
  /** (0040,100A) Reason for Requested Procedure Code Sequence */
  reasonForRequestedProcedureCodes?: CodedEntry[];
  /**
   * (0040,0243) Performed Location. Series-level in DICOM (Performed Procedure Step), kept per study:
   * ImagingStudy.location is one per study, so the latest present value wins.
   */
  performedLocation?: string;
  /** (0008,1040) Institutional Department Name (General Equipment), kept per study as performedLocation is. */
  institutionalDepartmentName?: string;
}

export interface SeriesAttributes {
  /** (0020,000E) */
  seriesInstanceUid: string;
  /** (0020,0011) */
  seriesNumber?: number;
  /** (0008,0060) */
  modality?: string;
  /** (0008,103E) */
  seriesDescription?: string;
  /** (0018,0015) */
  bodyPartExamined?: string;
  /** (0008,2218) Anatomic Region Sequence, first item (outranks Body Part Examined in the mapping). */
  anatomicRegion?: CodedEntry;
  /** (0020,0060) */
  laterality?: string;
  /** (0020,0062) of the latest image; the mapping reads each instance's */
  imageLaterality?: string;
  /** (0008,0021) raw DA */
  seriesDate?: string;
  /** (0008,0031) raw TM */
  seriesTime?: string;
  /** (0008,1050) */
  performingPhysicianName?: PersonName[];
  /** (0008,1070) */
  operatorsName?: PersonName[];
}

export interface InstanceAttributes {
  /** (0008,0018) */
  sopInstanceUid: string;
  /** (0008,0016) */
  sopClassUid: string;
  /** (0020,0013) */
  instanceNumber?: number;
  /** (0070,0080) */
  contentLabel?: string;
  /** (0042,0010) */
  documentTitle?: string;
  /** (0040,A043) first item */
  conceptNameCode?: CodedEntry;
  /** (0028,0008) */
  numberOfFrames?: number;
  /** (3006,0002) of an RT Structure Set */
  structureSetLabel?: string;
  /** (0020,0062) of this image (the series' laterality is derived from all of them) */
  imageLaterality?: string;
}

/**
 * How a record was obtained: received by C-STORE, or imported from an
 * archive (`dicom-fhir-bridge import`) over DICOMweb (WADO-RS metadata),
 * C-FIND, or from files. The merge rules (pipeline/merge.ts) say what each
 * may overwrite.
 */
export type RecordSource = 'c-store' | 'dicomweb' | 'c-find' | 'file';

export interface ReceiptData {
  /** Absent: C-STORE (records queued before imports existed have none). */
  source?: RecordSource;
  /**
   * The AE title whose peer settings apply: the calling AE of a C-STORE; for
   * an import, the archive's AE title (C-FIND) or the one given with
   * `--peer`, else empty.
   */
  callingAeTitle: string;
  calledAeTitle: string;
  peerAddress: string;
  peerPort?: number;
  transferSyntaxUid: string;
  /** ISO 8601 UTC timestamp of the C-STORE request's last fragment (of the read, for an import). */
  receivedAt: string;
  /** Dataset bytes received over the wire for this instance (pixel data included); for an import, the bytes read. */
  bytesReceived: number;
}

export interface InstanceRecord {
  /** (0008,0005) as received, e.g. "ISO 2022 IR 87" or "\\ISO 2022 IR 87". */
  specificCharacterSet?: string;
  patient: PatientAttributes;
  study: StudyAttributes;
  series: SeriesAttributes;
  instance: InstanceAttributes;
  receipt: ReceiptData;
  /** Key Object Selection Document content (SOP Class 1.2.840.10008.5.1.4.1.1.88.59), when readable. */
  keyObject?: KeyObjectDocument;
}
