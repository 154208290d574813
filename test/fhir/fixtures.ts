/** Study states and options for the mapping tests (attributes as the aggregator stores them). */
import type { InstanceAttributes, SeriesAttributes } from '../../src/dicom/instance-record.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import type { SeriesState, StudyState } from '../../src/dicom/study-state.js';

export const STUDY_UID = '1.2.826.0.1.3680043.8.498.1';
export const CT_SERIES_UID = '1.2.826.0.1.3680043.8.498.1.1';
export const PT_SERIES_UID = '1.2.826.0.1.3680043.8.498.1.2';
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const PET_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.128';
export const SEG_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

export function instance(uid: string, sopClassUid: string, extra: Partial<InstanceAttributes> = {}): InstanceAttributes {
  return { sopInstanceUid: uid, sopClassUid, ...extra };
}

export function series(attributes: SeriesAttributes, instances: InstanceAttributes[]): SeriesState {
  return { attributes, instances };
}

/** Fully populated: 2 series (CT + PT), ISO 2022 names, issuers, codes, timezone offset. */
export function fullStudy(): StudyState {
  return {
    studyInstanceUid: STUDY_UID,
    specificCharacterSet: '\\ISO 2022 IR 87',
    patient: {
      patientName: { alphabetic: 'Yamada^Tarou', ideographic: '山田^太郎', phonetic: 'やまだ^たろう' },
      patientId: 'PID-0001',
      issuerOfPatientId: 'HOSP_A',
      patientBirthDate: '19700131',
      patientSex: 'M',
    },
    study: {
      studyInstanceUid: STUDY_UID,
      studyDate: '20240705',
      studyTime: '143015.123',
      timezoneOffsetFromUtc: '+0900',
      accessionNumber: 'ACC-42',
      issuerOfAccessionNumber: { localNamespaceEntityId: 'RIS_EAST', universalEntityId: '1.2.392.200036.9116', universalEntityIdType: 'ISO' },
      studyId: 'S77',
      studyDescription: 'PET-CT whole body',
      referringPhysicianName: { alphabetic: 'Suzuki^Hanako^^Dr', ideographic: '鈴木^花子' },
      physiciansReadingStudy: [{ alphabetic: 'Tanaka^Ichiro' }, { alphabetic: 'Sato^Jiro^M' }],
      procedureCodes: [
        { codeValue: 'RPID14', codingSchemeDesignator: 'RADLEX', codeMeaning: 'PET-CT whole body' },
        { codeValue: 'PETCT01', codingSchemeDesignator: '99HOSP', codeMeaning: 'Local PET-CT protocol' },
      ],
      requestedProcedureCodes: [{ codeValue: 'PETCT01', codingSchemeDesignator: '99HOSP', codeMeaning: 'PET-CT staging' }],
      reasonForRequestedProcedure: 'Staging of lung cancer',
      reasonForRequestedProcedureCodes: [{ codeValue: '363358000', codingSchemeDesignator: 'SCT', codeMeaning: 'Malignant tumor of lung' }],
      performedLocation: 'PET-CT room 2',
      institutionalDepartmentName: 'Nuclear Medicine',
    },
    series: [
      // PT first and CT instances out of order: the mapping sorts.
      series(
        {
          seriesInstanceUid: PT_SERIES_UID,
          seriesNumber: 2,
          modality: 'PT',
          seriesDescription: 'PET WB',
          bodyPartExamined: 'WHOLEBODY',
          laterality: 'B',
          seriesDate: '20240705',
          seriesTime: '1450',
          operatorsName: [{ alphabetic: 'Ito^Ken' }],
        },
        [
          instance(`${PT_SERIES_UID}.1`, PET_IMAGE_STORAGE, { instanceNumber: 1 }),
          instance(`${PT_SERIES_UID}.2`, SEG_STORAGE, { instanceNumber: 2, contentLabel: 'TUMOR', documentTitle: 'ignored', conceptNameCode: { codeMeaning: 'ignored' } }),
        ],
      ),
      series(
        {
          seriesInstanceUid: CT_SERIES_UID,
          seriesNumber: 1,
          modality: 'CT',
          seriesDescription: 'CT chest',
          bodyPartExamined: 'CHEST',
          imageLaterality: 'L',
          seriesDate: '20240705',
          seriesTime: '143500',
          performingPhysicianName: [{ alphabetic: 'Kato^Yuki', ideographic: '加藤^由紀' }],
          operatorsName: [{ alphabetic: 'Ito^Ken' }, { alphabetic: 'Kato^Yuki' }],
        },
        [
          instance(`${CT_SERIES_UID}.10`, CT_IMAGE_STORAGE, { instanceNumber: 10 }),
          instance(`${CT_SERIES_UID}.2`, CT_IMAGE_STORAGE, { instanceNumber: 2, documentTitle: 'Scout' }),
          instance(`${CT_SERIES_UID}.1`, CT_IMAGE_STORAGE, { instanceNumber: 1, conceptNameCode: { codeValue: '121181', codingSchemeDesignator: 'DCM', codeMeaning: 'Dose report' } }),
        ],
      ),
    ],
    lastReceipt: {
      callingAeTitle: 'PETCT1',
      calledAeTitle: 'BRIDGE',
      peerAddress: '10.0.0.5',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      receivedAt: '2024-07-05T05:40:00.000Z',
      bytesReceived: 1234,
    },
    firstReceivedAt: '2024-07-05T05:35:00.000Z',
    lastReceivedAt: '2024-07-05T05:40:00.000Z',
  };
}

/** Only what DICOM requires: UIDs, one instance, no optional attributes. */
export function minimalStudy(): StudyState {
  return {
    studyInstanceUid: '1.2.3',
    patient: {},
    study: { studyInstanceUid: '1.2.3' },
    series: [series({ seriesInstanceUid: '1.2.3.4', modality: 'OT' }, [instance('1.2.3.4.5', '1.2.840.10008.5.1.4.1.1.7')])],
    lastReceipt: {
      callingAeTitle: 'SCU',
      calledAeTitle: 'BRIDGE',
      peerAddress: '127.0.0.1',
      transferSyntaxUid: '1.2.840.10008.1.2',
      receivedAt: '2024-01-01T00:00:00.000Z',
      bytesReceived: 10,
    },
    firstReceivedAt: '2024-01-01T00:00:00.000Z',
    lastReceivedAt: '2024-01-01T00:00:00.000Z',
  };
}

export function options(overrides: Partial<MappingOptions> = {}): MappingOptions {
  return {
    fhirVersion: 'R4',
    patientIdentifier: {
      defaultSystem: 'urn:oid:1.2.3.999',
      issuerSystems: { HOSP_A: 'urn:oid:1.2.392.100.1', HOSP_B: 'https://hosp-b.example/mrn' },
    },
    timezone: 'Asia/Tokyo',
    basedOn: 'accession',
    endpointReference: 'Endpoint/dicomweb-1',
    ...overrides,
  };
}

export function withStudy(state: StudyState, patch: Partial<StudyState['study']>): StudyState {
  return { ...state, study: { ...state.study, ...patch } };
}

export function withPatient(state: StudyState, patch: Partial<StudyState['patient']>): StudyState {
  return { ...state, patient: { ...state.patient, ...patch } };
}
