import { describe, expect, test } from 'vitest';
import { endpointAddress, endpointIdentifierQuery, mapEndpoint } from '../../src/fhir/map-endpoint.js';
import { mapPatient, patientGender } from '../../src/fhir/map-patient.js';
import { EN_REPRESENTATION_URL } from '../../src/fhir/person-name.js';
import { fullStudy, minimalStudy, options, withPatient } from './fixtures.js';

describe('mapPatient', () => {
  test.each(['R4', 'R5', 'STU3'] as const)('%s: identifier, names from the PN groups, gender, birthDate', (v) => {
    expect(mapPatient(fullStudy(), options({ fhirVersion: v }))).toStrictEqual({
      resourceType: 'Patient',
      identifier: [{ system: 'urn:oid:1.2.392.100.1', value: 'PID-0001' }],
      name: [
        { extension: [{ url: EN_REPRESENTATION_URL, valueCode: 'ABC' }], text: 'Tarou Yamada', family: 'Yamada', given: ['Tarou'] },
        { extension: [{ url: EN_REPRESENTATION_URL, valueCode: 'IDE' }], text: '山田 太郎', family: '山田', given: ['太郎'] },
        { extension: [{ url: EN_REPRESENTATION_URL, valueCode: 'SYL' }], text: 'やまだ たろう', family: 'やまだ', given: ['たろう'] },
      ],
      gender: 'male',
      birthDate: '1970-01-31',
    });
  });

  test('unresolved issuer stays out of system, kept as assigner', () => {
    const p = mapPatient(withPatient(minimalStudy(), { patientId: 'Z9', issuerOfPatientId: 'Clinic Z' }), options());
    expect(p.identifier).toStrictEqual([{ system: 'urn:oid:1.2.3.999', value: 'Z9', assigner: { display: 'Clinic Z' } }]);
  });

  test('nothing known: gender unknown only', () => {
    expect(mapPatient(minimalStudy(), options())).toStrictEqual({ resourceType: 'Patient', gender: 'unknown' });
  });

  test('malformed birth date dropped and reported', () => {
    const seen: string[] = [];
    const p = mapPatient(withPatient(minimalStudy(), { patientBirthDate: '19701301' }), options({ onDropped: (w, x) => seen.push(`${w}=${x}`) }));
    expect(p).not.toHaveProperty('birthDate');
    expect(seen).toEqual(['PatientBirthDate=19701301']);
  });

  test.each([
    ['M', 'male'],
    ['F', 'female'],
    ['O', 'other'],
    ['f', 'female'],
    ['U', 'unknown'],
    ['', 'unknown'],
    [undefined, 'unknown'],
  ])('sex %j → %s', (sex, gender) => {
    expect(patientGender(sex)).toBe(gender);
  });
});

describe('mapEndpoint', () => {
  const url = 'https://pacs.example.org/dicom-web//';
  const address = 'https://pacs.example.org/dicom-web';
  const identifier = [{ system: 'urn:ietf:rfc:3986', value: address }];
  test('R4', () => {
    expect(mapEndpoint(url, 'R4')).toStrictEqual({
      resourceType: 'Endpoint',
      identifier,
      status: 'active',
      connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' },
      name: 'DICOMweb WADO-RS',
      payloadType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any', display: 'Any' }], text: 'DICOMweb WADO-RS' }],
      payloadMimeType: ['application/dicom'],
      address,
    });
  });
  test('R5: connectionType is a list, payload[]', () => {
    expect(mapEndpoint(url, 'R5')).toStrictEqual({
      resourceType: 'Endpoint',
      identifier,
      status: 'active',
      connectionType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' }] }],
      name: 'DICOMweb WADO-RS',
      payload: [{ type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any', display: 'Any' }], text: 'DICOMweb WADO-RS' }], mimeType: ['application/dicom'] }],
      address,
    });
  });
  test('STU3: STU3 code system URIs', () => {
    const e = mapEndpoint(url, 'STU3');
    expect(e.connectionType).toStrictEqual({ system: 'http://hl7.org/fhir/endpoint-connection-type', code: 'dicom-wado-rs' });
    expect(e.payloadType[0]!.coding![0]!.system).toBe('http://hl7.org/fhir/endpoint-payload-type');
    expect(e.address).toBe(address);
  });
  test('address and conditional-create query', () => {
    expect(endpointAddress(' https://x.example/wado/ ')).toBe('https://x.example/wado');
    expect(endpointIdentifierQuery(url)).toBe('identifier=urn%3Aietf%3Arfc%3A3986%7Chttps%3A%2F%2Fpacs.example.org%2Fdicom-web');
  });
});
