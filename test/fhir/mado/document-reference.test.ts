import { describe, expect, test } from 'vitest';
import { manifestDocumentReference } from '../../../src/fhir/mado/document-reference.js';
import { localManifestResources } from '../../../src/fhir/mado/local-resources.js';
import { mapManifest } from '../../../src/fhir/mado/manifest.js';
import { imagingStudyId, patientId } from '../../../src/fhir/resource-ids.js';
import { validateR4 } from '../../support/fhir-validate.js';
import { minimalStudy, withStudy } from '../fixtures.js';
import { CREATED_AT, echoStudy, ECHO_STUDY_UID, manifestOptions } from './fixtures.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

describe('MadoFhirDocumentReference (the MHD envelope)', () => {
  const manifest = mapManifest(echoStudy(), manifestOptions());
  const docRef = manifestDocumentReference({
    summary: manifest.summary,
    bundleUrl: 'https://fhir.example/Bundle/abc',
    subject: { reference: 'Patient/123' },
    imagingStudyReference: 'ImagingStudy/456',
    options: manifestOptions(),
  });

  test('is valid R4', () => {
    expect(validateR4(docRef)).toEqual([]);
  });

  test('masterIdentifier = the manifest UID, also in identifier; status current; LOINC type and category', () => {
    expect(docRef.masterIdentifier).toEqual(manifest.bundle.identifier);
    expect(docRef.identifier).toEqual([manifest.bundle.identifier]);
    expect(docRef.status).toBe('current');
    expect(docRef.type?.coding?.[0]).toMatchObject({ system: 'http://loinc.org', code: '18748-4' });
    expect(docRef.category?.[0]?.coding?.[0]).toMatchObject({ system: 'http://loinc.org', code: '18748-4' });
    expect(docRef.subject).toEqual({ reference: 'Patient/123' });
    expect(docRef.date).toBe(CREATED_AT);
  });

  test('content: the Bundle as application/fhir+json, the MADO format code, the content profile extension', () => {
    expect(docRef.content).toEqual([
      {
        extension: [
          {
            url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.content.profile',
            extension: [{ url: 'value[x]', valueCanonical: 'https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoFhirBundle' }],
          },
        ],
        attachment: { contentType: 'application/fhir+json', language: 'en', url: 'https://fhir.example/Bundle/abc', title: 'FHIR Imaging Study Manifest', creation: CREATED_AT },
        format: { system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode', code: 'urn:ihe:rad:MADO:fhir-manifest:2026', display: 'MADO FHIR Imaging Study Manifest' },
      },
    ]);
  });

  test('context: Study Instance UID (DCM 110180) and accession (DCM 121022), period from the study times, facility and practice setting', () => {
    expect(docRef.context?.related).toEqual([
      { reference: 'ImagingStudy/456', type: 'ImagingStudy', identifier: { type: { coding: [{ system: DCM, code: '110180', display: 'Study Instance UID' }] }, system: 'urn:dicom:uid', value: `urn:oid:${ECHO_STUDY_UID}` } },
      { type: 'ServiceRequest', identifier: expect.objectContaining({ value: 'E-1001', type: { coding: [expect.objectContaining({ code: 'ACSN' }), { system: DCM, code: '121022', display: 'Accession Number' }] } }) },
    ]);
    // 09:15 Paris (summer) = 07:15Z; the latest shared series (KO) started 09:50.
    expect(docRef.context?.period).toEqual({ start: '2026-07-01T09:15:00+02:00', end: '2026-07-01T09:50:00+02:00' });
    expect(docRef.context?.facilityType?.coding?.[0]?.code).toBe('22232009');
    expect(docRef.context?.practiceSetting?.coding?.[0]?.code).toBe('394914008');
    expect(docRef.context?.event).toEqual([expect.objectContaining({ coding: [expect.objectContaining({ code: '40701008' })] })]);
  });

  test('modality and bodysite extensions: the modalities and regions of the shared series', () => {
    expect(docRef.extension).toEqual([
      {
        url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality',
        valueCodeableConcept: { coding: [expect.objectContaining({ system: DCM, code: 'US' }), expect.objectContaining({ system: DCM, code: 'KO' })] },
      },
      {
        url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.bodySite',
        extension: [{ url: 'concept', valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '80891009', display: 'Heart structure' }] } }],
      },
    ]);
  });

  test('authors: the creator Device and Organization, contained; no custodian (MHD Minimal: 0..0)', () => {
    expect(docRef.author).toEqual([{ reference: '#creator' }, { reference: '#organization' }]);
    expect(docRef.contained?.map((r) => [r.resourceType, r.id])).toEqual([
      ['Device', 'creator'],
      ['Organization', 'organization'],
    ]);
    expect((docRef.contained?.[0] as any).owner).toEqual({ reference: '#organization' });
    expect(docRef.custodian).toBeUndefined();
  });

  test('a study without any time: period.start absent with data-absent-reason; no accession: one related', () => {
    const state = withStudy(minimalStudy(), {});
    const summary = mapManifest(state, manifestOptions()).summary;
    const d = manifestDocumentReference({ summary, bundleUrl: 'Bundle/x', options: manifestOptions() });
    expect(d.context?.period).toEqual({ _start: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] } });
    expect(d.context?.related).toHaveLength(1);
    expect(d.subject).toEqual({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] });
    expect(validateR4(d)).toEqual([]);
  });

  test('a study emptied by IOCM rejection: entered-in-error', () => {
    const state = { ...echoStudy(), series: [], rejection: { reason: '113001' as const, kosSopInstanceUid: '9.9' } };
    const d = manifestDocumentReference({ summary: mapManifest(state, manifestOptions()).summary, bundleUrl: 'Bundle/x', options: manifestOptions() });
    expect(d.status).toBe('entered-in-error');
  });
});

describe('the built-in endpoint resources', () => {
  test('Bundle and DocumentReference with the manifest UID as id; the envelope refers to the local Patient, ImagingStudy and Bundle', () => {
    const state = echoStudy();
    const [bundle, docRef] = localManifestResources(state, manifestOptions());
    const uid = mapManifest(state, manifestOptions()).uid;
    expect(bundle.id).toBe(uid);
    expect(docRef.id).toBe(uid);
    expect(docRef.content[0]!.attachment.url).toBe(`Bundle/${uid}`);
    expect(docRef.subject).toEqual({ reference: `Patient/${patientId({ system: 'urn:oid:1.2.392.100.1', value: 'MRN-9' })}` });
    expect(docRef.context?.related?.[0]?.reference).toBe(`ImagingStudy/${imagingStudyId(ECHO_STUDY_UID)}`);
    const [, withBase] = localManifestResources(state, manifestOptions(), 'https://bridge.example/fhir/');
    expect(withBase.content[0]!.attachment.url).toBe(`https://bridge.example/fhir/Bundle/${uid}`);
  });
});
