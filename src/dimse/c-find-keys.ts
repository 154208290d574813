/**
 * The keys of the Study Root C-FIND queries of `import dimse` (PS3.4
 * C.6.2.1, Study Root Query/Retrieve Information Model): at each level, its
 * unique key, the unique keys of the levels above, and as return keys every
 * attribute of that level the record extractor (dicom/record-extractor.ts)
 * reads, so the record is as complete as the SCP allows. Patient attributes
 * are STUDY-level keys in the Study Root model. test/dimse/c-find-keys.test.ts
 * checks that no attribute the extractor reads is missing.
 */
import type { QueryKey } from './c-find-identifier.js';

/** Return keys: tag and VR (PS3.6), no value. */
const key = (tag: number, vr: string): QueryKey => ({ tag, vr });

export const TAGS = {
  SpecificCharacterSet: 0x00080005,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  SOPInstanceUID: 0x00080018,
  SOPClassUID: 0x00080016,
  StudyDate: 0x00080020,
  ModalitiesInStudy: 0x00080061,
  PatientID: 0x00100020,
  NumberOfStudyRelatedInstances: 0x00201208,
} as const;

export const STUDY_RETURN_KEYS: readonly QueryKey[] = [
  key(0x00080020, 'DA'), // Study Date
  key(0x00080030, 'TM'), // Study Time
  key(0x00080050, 'SH'), // Accession Number
  key(0x00080051, 'SQ'), // Issuer of Accession Number Sequence
  key(0x00080061, 'CS'), // Modalities in Study
  key(0x00080090, 'PN'), // Referring Physician's Name
  key(0x00080201, 'SH'), // Timezone Offset From UTC
  key(0x00081030, 'LO'), // Study Description
  key(0x00081032, 'SQ'), // Procedure Code Sequence
  key(0x00081060, 'PN'), // Name of Physician(s) Reading Study
  key(0x00100010, 'PN'), // Patient's Name
  key(0x00100020, 'LO'), // Patient ID
  key(0x00100021, 'LO'), // Issuer of Patient ID
  key(0x00100024, 'SQ'), // Issuer of Patient ID Qualifiers Sequence
  key(0x00100030, 'DA'), // Patient's Birth Date
  key(0x00100040, 'CS'), // Patient's Sex
  key(0x0020000d, 'UI'), // Study Instance UID (unique key)
  key(0x00200010, 'SH'), // Study ID
  key(0x00201206, 'IS'), // Number of Study Related Series
  key(0x00201208, 'IS'), // Number of Study Related Instances
  key(0x00321060, 'LO'), // Requested Procedure Description
  key(0x00321064, 'SQ'), // Requested Procedure Code Sequence
  key(0x00401002, 'LO'), // Reason for the Requested Procedure
  key(0x0040100a, 'SQ'), // Reason for Requested Procedure Code Sequence
];

export const SERIES_RETURN_KEYS: readonly QueryKey[] = [
  key(0x00080021, 'DA'), // Series Date
  key(0x00080031, 'TM'), // Series Time
  key(0x00080060, 'CS'), // Modality
  key(0x0008103e, 'LO'), // Series Description
  key(0x00081050, 'PN'), // Performing Physician's Name
  key(0x00081070, 'PN'), // Operators' Name
  key(0x00180015, 'CS'), // Body Part Examined
  key(0x0020000e, 'UI'), // Series Instance UID (unique key)
  key(0x00200011, 'IS'), // Series Number
  key(0x00200060, 'CS'), // Laterality
  key(0x00201209, 'IS'), // Number of Series Related Instances
];

export const IMAGE_RETURN_KEYS: readonly QueryKey[] = [
  key(0x00080016, 'UI'), // SOP Class UID
  key(0x00080018, 'UI'), // SOP Instance UID (unique key)
  key(0x00200013, 'IS'), // Instance Number
  key(0x00200062, 'CS'), // Image Laterality
  key(0x00280008, 'IS'), // Number of Frames
  key(0x0040a043, 'SQ'), // Concept Name Code Sequence
  key(0x00420010, 'ST'), // Document Title
  key(0x00700080, 'CS'), // Content Label
  key(0x30060002, 'SH'), // Structure Set Label
];
