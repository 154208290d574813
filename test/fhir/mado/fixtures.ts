/** Studies and options for the MADO manifest tests. */
import type { StudyState } from '../../../src/dicom/study-state.js';
import type { ManifestOptions } from '../../../src/fhir/mado/options.js';
import { instance, options, series } from '../fixtures.js';

export const ECHO_STUDY_UID = '1.2.826.0.1.3680043.8.498.77';
export const US_SERIES_UID = `${ECHO_STUDY_UID}.1`;
export const SR_SERIES_UID = `${ECHO_STUDY_UID}.2`;
export const KO_SERIES_UID = `${ECHO_STUDY_UID}.3`;
export const US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3.1';
export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
export const KOS = '1.2.840.10008.5.1.4.1.1.88.59';
export const CREATED_AT = '2026-07-02T10:20:30.000Z';

/**
 * The storyboard's echo study: a multi-frame US series (cine loops), the
 * sonographer's preliminary measurements (a Comprehensive SR series), and a
 * KOS "Of Interest" selecting two loops.
 */
export function echoStudy(): StudyState {
  return {
    studyInstanceUid: ECHO_STUDY_UID,
    patient: { patientName: { alphabetic: 'Doe^Jane' }, patientId: 'MRN-9', issuerOfPatientId: 'HOSP_A', patientBirthDate: '19800214', patientSex: 'F' },
    study: {
      studyInstanceUid: ECHO_STUDY_UID,
      studyDate: '20260701',
      studyTime: '091500',
      accessionNumber: 'E-1001',
      studyDescription: 'Echocardiography',
      procedureCodes: [{ codeValue: '40701008', codingSchemeDesignator: 'SCT', codeMeaning: 'Echocardiography' }],
    },
    series: [
      series({ seriesInstanceUid: US_SERIES_UID, seriesNumber: 1, modality: 'US', seriesDescription: 'TTE loops', bodyPartExamined: 'HEART', seriesDate: '20260701', seriesTime: '091600' }, [
        instance(`${US_SERIES_UID}.1`, US_MULTIFRAME, { instanceNumber: 1, numberOfFrames: 48 }),
        instance(`${US_SERIES_UID}.2`, US_MULTIFRAME, { instanceNumber: 2, numberOfFrames: 96 }),
      ]),
      series({ seriesInstanceUid: SR_SERIES_UID, seriesNumber: 2, modality: 'SR', seriesDescription: 'Preliminary measurements', seriesDate: '20260701', seriesTime: '094000' }, [
        instance(`${SR_SERIES_UID}.1`, COMPREHENSIVE_SR, { instanceNumber: 1, conceptNameCode: { codeValue: '125200', codingSchemeDesignator: 'DCM', codeMeaning: 'Adult Echocardiography Procedure Report' } }),
      ]),
      series({ seriesInstanceUid: KO_SERIES_UID, seriesNumber: 3, modality: 'KO', seriesDate: '20260701', seriesTime: '095000' }, [
        instance(`${KO_SERIES_UID}.1`, KOS, { instanceNumber: 1, conceptNameCode: { codeValue: '113000', codingSchemeDesignator: 'DCM', codeMeaning: 'Of Interest' } }),
      ]),
    ],
    keyObjects: [
      {
        sopInstanceUid: `${KO_SERIES_UID}.1`,
        seriesInstanceUid: KO_SERIES_UID,
        sopClassUid: KOS,
        document: {
          title: { codeValue: '113000', codingSchemeDesignator: 'DCM', codeMeaning: 'Of Interest' },
          isRejection: false,
          description: 'Best loops of the LV',
          references: [
            { studyInstanceUid: ECHO_STUDY_UID, seriesInstanceUid: US_SERIES_UID, sopClassUid: US_MULTIFRAME, sopInstanceUid: `${US_SERIES_UID}.1` },
            { studyInstanceUid: ECHO_STUDY_UID, seriesInstanceUid: US_SERIES_UID, sopClassUid: US_MULTIFRAME, sopInstanceUid: `${US_SERIES_UID}.2` },
          ],
        },
      },
    ],
    lastReceipt: {
      callingAeTitle: 'ECHO1',
      calledAeTitle: 'BRIDGE',
      peerAddress: '10.0.0.9',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      receivedAt: '2026-07-01T07:50:00.000Z',
      bytesReceived: 999,
    },
    firstReceivedAt: '2026-07-01T07:16:00.000Z',
    lastReceivedAt: '2026-07-01T07:50:00.000Z',
  };
}

export function manifestOptions(overrides: Partial<ManifestOptions> = {}): ManifestOptions {
  return {
    mapping: options({ timezone: 'Europe/Paris', endpointReference: undefined }),
    createdAt: CREATED_AT,
    sharing: { excludeSopClasses: [COMPREHENSIVE_SR] },
    dicomWebBaseUrl: 'https://pacs.example/dicom-web/',
    viewerUrlTemplate: 'https://viewer.example/ohif/viewer?StudyInstanceUIDs={studyUid}',
    creator: {
      organizationName: 'Example Hospital',
      organizationIdentifier: { system: 'urn:oid:1.2.3.4.5', value: 'EH-1' },
      manufacturer: 'dicom-fhir-bridge',
      softwareName: 'dicom-fhir-bridge',
      softwareVersion: '0.1.0',
    },
    accessionSystem: 'urn:oid:1.2.3.4.5.6',
    facilityType: { system: 'http://snomed.info/sct', code: '22232009', display: 'Hospital' },
    practiceSetting: { system: 'http://snomed.info/sct', code: '394914008', display: 'Radiology' },
    ...overrides,
  };
}

/** The resources of a manifest Bundle by resource type (first of each; Endpoints by profile). */
export function entriesOf(bundle: { entry?: Array<{ fullUrl?: string; resource?: any }> }) {
  const entries = bundle.entry ?? [];
  const byType = (t: string) => entries.filter((e) => e.resource?.resourceType === t);
  const byProfile = (p: string) => entries.filter((e) => e.resource?.meta?.profile?.some((x: string) => x.endsWith(`/${p}`)));
  return {
    entries,
    composition: byType('Composition')[0]?.resource,
    study: byType('ImagingStudy')[0]?.resource,
    patient: byType('Patient')[0]?.resource,
    wado: byProfile('MadoWadoEndpoint')[0]?.resource,
    viewer: byProfile('MadoWebViewerEndpoint')[0]?.resource,
    device: byType('Device')[0]?.resource,
    organization: byType('Organization')[0]?.resource,
    order: byType('ServiceRequest')[0]?.resource,
    urlOf: (resource: unknown) => entries.find((e) => e.resource === resource)?.fullUrl,
  };
}
