/** The manifest: configuration block (FHIR_MANIFEST and the MANIFEST_* keys). */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('manifest configuration', () => {
  it('is off by default, with the documented defaults', () => {
    expect(loadConfig({ env: {} }).manifest).toEqual({
      format: 'off',
      excludeSopClasses: [],
      organizationName: 'Imaging department',
      accessionSystem: 'urn:dicom-fhir-bridge:accession',
      facilityType: { system: 'http://snomed.info/sct', code: '22232009', display: 'Hospital' },
      practiceSetting: { system: 'http://snomed.info/sct', code: '394914008', display: 'Radiology' },
    });
  });

  it('takes every key from the environment', () => {
    const manifest = loadConfig({
      env: {
        FHIR_MANIFEST: 'mado',
        MANIFEST_EXCLUDE_SOP_CLASSES: '1.2.840.10008.5.1.4.1.1.88.33, 1.2.840.10008.5.1.4.1.1.88.22',
        MANIFEST_EXCLUDE_SERIES_DESCRIPTION: '^preliminary',
        VIEWER_URL_TEMPLATE: 'https://viewer.example/ohif/viewer?StudyInstanceUIDs={studyUid}&acc={accession}',
        MANIFEST_ORGANIZATION_NAME: 'Example Hospital',
        MANIFEST_ORGANIZATION_IDENTIFIER: 'urn:oid:1.2.3.4|HOSP-A',
        MANIFEST_ACCESSION_SYSTEM: 'urn:oid:1.2.3.4.5',
        MANIFEST_FACILITY_TYPE: 'http://snomed.info/sct|22232009',
        MANIFEST_PRACTICE_SETTING: 'http://snomed.info/sct|394914008|Radiology',
      },
    }).manifest;
    expect(manifest).toEqual({
      format: 'mado',
      excludeSopClasses: ['1.2.840.10008.5.1.4.1.1.88.33', '1.2.840.10008.5.1.4.1.1.88.22'],
      excludeSeriesDescription: '^preliminary',
      viewerUrlTemplate: 'https://viewer.example/ohif/viewer?StudyInstanceUIDs={studyUid}&acc={accession}',
      organizationName: 'Example Hospital',
      organizationIdentifier: { system: 'urn:oid:1.2.3.4', value: 'HOSP-A' },
      accessionSystem: 'urn:oid:1.2.3.4.5',
      facilityType: { system: 'http://snomed.info/sct', code: '22232009' },
      practiceSetting: { system: 'http://snomed.info/sct', code: '394914008', display: 'Radiology' },
    });
  });

  it.each(['R5', 'STU3'])('refuses mado with FHIR_VERSION=%s at start-up, saying why', (version) => {
    expect(problemsOf({ FHIR_MANIFEST: 'mado', FHIR_VERSION: version })).toEqual([
      `manifest.format (FHIR_MANIFEST): mado needs fhir.version R4 (FHIR_VERSION=R4): MADO profiles are FHIR R4, ${version} is not supported yet`,
    ]);
  });
});
