import { describe, expect, test } from 'vitest';
import { mapImagingStudy } from '../../../src/fhir/map-imaging-study.js';
import { mapManifest } from '../../../src/fhir/mado/manifest.js';
import { manifestUid } from '../../../src/fhir/mado/manifest-uid.js';
import { validateR4 } from '../../support/fhir-validate.js';
import { fullStudy, minimalStudy, STUDY_UID, withStudy } from '../fixtures.js';
import {
  COMPREHENSIVE_SR,
  CREATED_AT,
  echoStudy,
  ECHO_STUDY_UID,
  entriesOf,
  KO_SERIES_UID,
  KOS,
  manifestOptions,
  SR_SERIES_UID,
  US_MULTIFRAME,
  US_SERIES_UID,
} from './fixtures.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const MADO = 'https://profiles.ihe.net/RAD/MADO/StructureDefinition';

describe('the manifest Bundle', () => {
  const manifest = mapManifest(echoStudy(), manifestOptions());
  const e = entriesOf(manifest.bundle);

  test('is a document Bundle identified by the stable manifest UID, timestamped when made', () => {
    expect(manifest.bundle).toMatchObject({
      resourceType: 'Bundle',
      meta: { profile: [`${MADO}/MadoFhirBundle`] },
      type: 'document',
      identifier: { system: 'urn:dicom:uid', value: `urn:oid:${manifestUid(ECHO_STUDY_UID)}` },
      timestamp: CREATED_AT,
    });
    expect(manifest.uid).toBe(manifestUid(ECHO_STUDY_UID));
    expect(manifest.bundle.total).toBeUndefined();
  });

  test('entries: Composition first, then ImagingStudy, Patient, WADO and viewer Endpoints, Device, Organization, ServiceRequest', () => {
    expect(e.entries.map((x) => x.resource.resourceType)).toEqual([
      'Composition',
      'ImagingStudy',
      'Patient',
      'Endpoint',
      'Endpoint',
      'Device',
      'Organization',
      'ServiceRequest',
    ]);
    const urls = e.entries.map((x) => x.fullUrl);
    expect(new Set(urls).size).toBe(urls.length);
    for (const url of urls) expect(url).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('every reference inside resolves to an entry of the Bundle', () => {
    const urls = new Set(e.entries.map((x) => x.fullUrl));
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'reference' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(manifest.bundle.entry);
    expect(refs.length).toBeGreaterThan(8);
    expect(refs.filter((r) => !urls.has(r))).toEqual([]);
  });

  test('is valid R4 (official JSON schema and Medplum), as a whole', () => {
    expect(validateR4(manifest.bundle)).toEqual([]);
  });

  test('is the same for the same study and time (a republish changes nothing but the times)', () => {
    expect(mapManifest(echoStudy(), manifestOptions())).toEqual(manifest);
    const later = mapManifest(echoStudy(), manifestOptions({ createdAt: '2026-07-03T00:00:00.000Z' }));
    expect(later.uid).toBe(manifest.uid);
    expect(entriesOf(later.bundle).study).toEqual(e.study);
  });
});

describe('sharing rules', () => {
  test('a SOP class kept out leaves the manifest only: the SR series is not shared, the ImagingStudy keeps it', () => {
    const state = echoStudy();
    const manifest = mapManifest(state, manifestOptions());
    const study = entriesOf(manifest.bundle).study;
    expect(study.series.map((s: any) => s.uid)).toEqual([US_SERIES_UID, KO_SERIES_UID]);
    expect(study.numberOfSeries).toBe(2);
    expect(study.numberOfInstances).toBe(3);
    expect(manifest.excluded).toBe(1);
    const published = mapImagingStudy(state, { ...manifestOptions().mapping, fhirVersion: 'R4' });
    expect(published.series?.map((s) => s.uid)).toEqual([US_SERIES_UID, SR_SERIES_UID, KO_SERIES_UID]);
    expect(published.numberOfInstances).toBe(4);
  });

  test('a series description rule (regular expression, case-insensitive) keeps whole series out', () => {
    const manifest = mapManifest(echoStudy(), manifestOptions({ sharing: { excludeSopClasses: [], excludeSeriesDescription: '^preliminary' } }));
    expect(entriesOf(manifest.bundle).study.series.map((s: any) => s.uid)).toEqual([US_SERIES_UID, KO_SERIES_UID]);
    const none = mapManifest(echoStudy(), manifestOptions({ sharing: { excludeSopClasses: [] } }));
    expect(entriesOf(none.bundle).study.numberOfSeries).toBe(3);
    expect(none.excluded).toBe(0);
  });

  test('the sharing rules are no rejection: a study whose every instance is kept out is not entered-in-error', () => {
    const state = { ...echoStudy(), rejection: { reason: '113001' as const, kosSopInstanceUid: '9.9' } };
    const manifest = mapManifest(state, manifestOptions({ sharing: { excludeSopClasses: [COMPREHENSIVE_SR, KOS, US_MULTIFRAME] } }));
    const study = entriesOf(manifest.bundle).study;
    expect(study.numberOfSeries).toBe(0);
    expect(study.status).toBe('available');
    expect(manifest.summary.rejected).toBe(false);
  });
});

describe('MadoImagingStudy', () => {
  const e = entriesOf(mapManifest(echoStudy(), manifestOptions()).bundle);

  test('Study Instance UID identifier typed DCM 110180; accession as basedOn with ACSN and DCM 121022 codings', () => {
    expect(e.study.identifier[0]).toEqual({
      type: { coding: [{ system: DCM, code: '110180', display: 'Study Instance UID' }] },
      system: 'urn:dicom:uid',
      value: `urn:oid:${ECHO_STUDY_UID}`,
    });
    expect(e.study.basedOn).toEqual([
      {
        reference: e.urlOf(e.order),
        type: 'ServiceRequest',
        identifier: {
          type: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN', display: 'Accession ID' },
              { system: DCM, code: '121022', display: 'Accession Number' },
            ],
          },
          system: 'urn:oid:1.2.3.4.5.6',
          value: 'E-1001',
        },
      },
    ]);
    expect(e.order.identifier).toEqual([e.study.basedOn[0].identifier]);
  });

  test('every series refers to the WADO endpoint; the study to the web viewer', () => {
    for (const s of e.study.series) expect(s.endpoint).toEqual([{ reference: e.urlOf(e.wado) }]);
    expect(e.study.endpoint).toEqual([{ reference: e.urlOf(e.viewer) }]);
    // The display is the ImagingStudy mapping's (person-name.ts).
    const display = mapImagingStudy(echoStudy(), { ...manifestOptions().mapping, fhirVersion: 'R4' }).subject.display;
    expect(e.study.subject).toEqual({ reference: e.urlOf(e.patient), display });
  });

  test('instances carry number of frames, and a KOS its document title and Key Object Description', () => {
    const [us, ko] = e.study.series;
    expect(us.instance.map((i: any) => i.extension)).toEqual([
      [{ url: `${MADO}/MadoNumberOfFrames`, valueInteger: 48 }],
      [{ url: `${MADO}/MadoNumberOfFrames`, valueInteger: 96 }],
    ]);
    expect(ko.instance[0]).toEqual({
      extension: [
        {
          url: `${MADO}/MadoKeyObjectDocumentTitle`,
          valueCodeableConcept: { coding: [{ system: DCM, code: '113000', display: 'Of Interest' }], text: 'Of Interest' },
        },
      ],
      uid: `${KO_SERIES_UID}.1`,
      sopClass: { system: 'urn:ietf:rfc:3986', code: 'urn:oid:1.2.840.10008.5.1.4.1.1.88.59' },
      number: 1,
      title: 'Best loops of the LV',
    });
  });

  test('anatomical region from the body parts (HEART → 80891009)', () => {
    expect(e.study.extension).toEqual([
      { url: `${MADO}/MadoAnatomicalRegionExtension`, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '80891009', display: 'Heart structure' }] } },
    ]);
  });

  test.each([
    ['(0008,1032) Procedure Code Sequence', (s: any) => s, [{ coding: [{ system: 'http://snomed.info/sct', code: '40701008', display: 'Echocardiography' }], text: 'Echocardiography' }]],
    [
      '(0032,1060) Requested Procedure Description',
      (s: any) => withStudy(s, { procedureCodes: undefined, requestedProcedureDescription: 'TTE complete' }),
      [{ text: 'TTE complete' }],
    ],
    [
      '(0032,1064) Requested Procedure Code Sequence',
      (s: any) => withStudy(s, { procedureCodes: undefined, requestedProcedureCodes: [{ codeValue: 'X1', codingSchemeDesignator: '99LOCAL', codeMeaning: 'Echo rest' }] }),
      [{ text: 'Echo rest' }],
    ],
    ['(0008,1030) Study Description', (s: any) => withStudy(s, { procedureCodes: undefined }), [{ text: 'Echocardiography' }]],
    ['the modalities', (s: any) => withStudy(s, { procedureCodes: undefined, studyDescription: undefined }), [{ text: 'US, KO imaging study' }]],
  ])('procedureCode (mado-reqproc-1) from %s', (_what, change, expected) => {
    const study = entriesOf(mapManifest(change(echoStudy()), manifestOptions()).bundle).study;
    expect(study.procedureCode).toEqual(expected);
  });
});

describe('Endpoints', () => {
  test('WADO: address without trailing slash, dicom-wado-rs, payload none "DICOM WADO-RS", a Retrieve Location UID', () => {
    const { wado } = entriesOf(mapManifest(echoStudy(), manifestOptions()).bundle);
    expect(wado).toMatchObject({
      status: 'active',
      connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' },
      payloadType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'none' }], text: 'DICOM WADO-RS' }],
      address: 'https://pacs.example/dicom-web',
    });
    expect(wado.extension).toEqual([{ url: `${MADO}/MadoRetrieveLocationUIDExtension`, valueString: expect.stringMatching(/^2\.25\.\d+$/) }]);
    expect(wado._address).toBeUndefined();
    const configured = entriesOf(mapManifest(echoStudy(), manifestOptions({ retrieveLocationUid: '1.2.3.77' })).bundle).wado;
    expect(configured.extension[0].valueString).toBe('1.2.3.77');
  });

  test('WADO without DICOMWEB_BASE_URL: the placeholder address with data-absent-reason unknown', () => {
    const { wado } = entriesOf(mapManifest(echoStudy(), manifestOptions({ dicomWebBaseUrl: undefined })).bundle);
    expect(wado.address).toBe('http://notspecified');
    expect(wado._address).toEqual({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] });
    expect(validateR4(wado)).toEqual([]);
  });

  test.each([
    ['https://viewer.example/ohif/viewer?StudyInstanceUIDs={studyUid}', `https://viewer.example/ohif/viewer?StudyInstanceUIDs=${ECHO_STUDY_UID}`],
    ['https://v.example/?acc={accession}&pid={patientId}', 'https://v.example/?acc=E-1001&pid=MRN-9'],
    ['https://v.example/{patientId}/{studyUid}', `https://v.example/MRN-9/${ECHO_STUDY_UID}`],
  ])('viewer template %s is filled for the study', (template, address) => {
    const { viewer, study } = entriesOf(mapManifest(echoStudy(), manifestOptions({ viewerUrlTemplate: template })).bundle);
    expect(viewer).toMatchObject({ address, payloadMimeType: ['text/html'], payloadType: [{ coding: [{ code: 'none' }] }] });
    expect(study.endpoint).toHaveLength(1);
  });

  test('viewer values are URL-encoded; a template naming a value the study lacks gives no viewer', () => {
    const state = { ...echoStudy(), patient: { ...echoStudy().patient, patientId: 'A&B C' } };
    expect(entriesOf(mapManifest(state, manifestOptions({ viewerUrlTemplate: 'https://v.example/?p={patientId}' })).bundle).viewer.address).toBe(
      'https://v.example/?p=A%26B%20C',
    );
    const noAccession = withStudy(echoStudy(), { accessionNumber: undefined });
    const e = entriesOf(mapManifest(noAccession, manifestOptions({ viewerUrlTemplate: 'https://v.example/?a={accession}' })).bundle);
    expect(e.viewer).toBeUndefined();
    expect(e.study.endpoint).toBeUndefined();
    expect(e.order).toBeUndefined();
    expect(e.study.basedOn).toBeUndefined();
  });
});

describe('creator, patient, composition', () => {
  const manifest = mapManifest(echoStudy(), manifestOptions());
  const e = entriesOf(manifest.bundle);

  test('MadoCreator: type mado-creator, manufacturer, owner the organization; MadoCreatorOrganization: name and identifier', () => {
    expect(e.device).toMatchObject({
      type: { coding: [{ system: 'https://profiles.ihe.net/RAD/MADO/CodeSystem/MadoDeviceType', code: 'mado-creator' }] },
      manufacturer: 'dicom-fhir-bridge',
      version: [{ value: '0.1.0' }],
      owner: { reference: e.urlOf(e.organization) },
    });
    expect(e.organization).toMatchObject({ name: 'Example Hospital', identifier: [{ system: 'urn:oid:1.2.3.4.5', value: 'EH-1' }] });
  });

  test('MadoPatient: identifier, name, gender, birth date', () => {
    expect(e.patient).toMatchObject({
      identifier: [{ system: 'urn:oid:1.2.392.100.1', value: 'MRN-9' }],
      name: [expect.objectContaining({ family: 'Doe', given: ['Jane'] })],
      gender: 'female',
      birthDate: '1980-02-14',
    });
  });

  test('MadoComposition: final, LOINC type, subject, date, both authors, the ImagingStudy as event, one section per shared series', () => {
    expect(e.composition).toMatchObject({
      status: 'final',
      type: { coding: [{ system: 'http://loinc.org', code: '18748-4' }] },
      identifier: manifest.bundle.identifier,
      subject: { reference: e.urlOf(e.patient) },
      date: CREATED_AT,
      author: [{ reference: e.urlOf(e.device) }, { reference: e.urlOf(e.organization) }],
      event: [{ detail: [{ reference: e.urlOf(e.study) }] }],
      title: 'Imaging study manifest: Echocardiography',
    });
    expect(e.composition.text.status).toBe('generated');
    expect(e.composition.text.div).toContain(ECHO_STUDY_UID);
    expect(e.composition.section.map((s: any) => s.title)).toEqual(['Series 1 · US · TTE loops', 'Series 3 · KO']);
    for (const s of e.composition.section) expect(s.text.div).toMatch(/^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml">/);
  });

  test('narratives escape XHTML', () => {
    const state = withStudy(echoStudy(), { studyDescription: '<b>Echo & "more"</b>' });
    const div = entriesOf(mapManifest(state, manifestOptions()).bundle).composition.text.div;
    expect(div).toContain('&lt;b&gt;Echo &amp; &quot;more&quot;&lt;/b&gt;');
    expect(div).not.toContain('<b>Echo');
  });
});

describe('other studies', () => {
  test.each([
    ['fully populated PET-CT', () => fullStudy()],
    ['minimal (UIDs only)', () => minimalStudy()],
  ])('%s: valid R4, one manifest per study', (_what, make) => {
    const state = make();
    const manifest = mapManifest(state, manifestOptions({ sharing: { excludeSopClasses: [COMPREHENSIVE_SR] } }));
    expect(validateR4(manifest.bundle)).toEqual([]);
    expect(manifest.uid).toBe(manifestUid(state.studyInstanceUid));
    expect(manifest.uid).not.toBe(manifestUid(STUDY_UID === state.studyInstanceUid ? '1.2.3' : STUDY_UID));
  });

  test('minimal study: no accession → no order, procedure from the modality, patient without identifier', () => {
    const e = entriesOf(mapManifest(minimalStudy(), manifestOptions()).bundle);
    expect(e.order).toBeUndefined();
    expect(e.study.procedureCode).toEqual([{ text: 'OT imaging study' }]);
    expect(e.patient.identifier).toBeUndefined();
    expect(e.study.extension).toBeUndefined();
  });
});
