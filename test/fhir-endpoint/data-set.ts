/**
 * The data set of the FHIR endpoint tests: 3 patients, 8 studies, mixed
 * modalities, timezones and partial dates, mapped with the real
 * mapImagingStudy / mapPatient / mapEndpoint, served by handleFhirRequest
 * on node:http over a SqliteResourceIndex.
 *
 * started (Europe/Paris is the site timezone):
 *   S1 P1 CT chest      2024-07-05T14:30:00+09:00  (05:30Z)
 *   S2 P1 MR head       2024-07-06 (date only: the Paris day, 07-05T22:00Z..07-06T22:00Z)
 *   S3 P1 PT+CT body    2023-12-31T23:30:00+01:00  (no (0008,0201): Paris offset; 22:30Z)
 *   S4 P2 US abdomen    2024-01-15T10:00:00-05:00  (15:00Z)
 *   S5 P2 CR chest      2024-07-05T23:30:00+00:00  (Paris: 07-06 01:30)
 *   S6 P2 MR knee       no date
 *   S7 P3 CT head       2022-03-10T08:00:00+01:00
 *   S8 P3 MG breast     2024-02-29T12:00:00+01:00
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapImagingStudy, mapEndpoint, mapPatient, type FhirVersion } from '../../src/fhir/index.js';
import { handleFhirRequest, type FhirEndpointDependencies } from '../../src/fhir-endpoint/index.js';
import { endpointId, imagingStudyId, patientId } from '../../src/fhir/resource-ids.js';
import type { FhirResource } from '../../src/fhir-endpoint/resource-index.js';
import { SqliteResourceIndex } from '../../src/fhir-endpoint/sqlite-resource-index.js';
import type { StudyState } from '../../src/dicom/study-state.js';
import { instance, minimalStudy, options, series } from '../fhir/fixtures.js';
import { freePort } from '../support/free-port.js';

export const TIMEZONE = 'Europe/Paris';
export const WADO_BASE = 'https://pacs.example/dicomweb/';
export const ENDPOINT_ID = endpointId(WADO_BASE);
export const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
export const MR_IMAGE = '1.2.840.10008.5.1.4.1.1.4';
export const PET_IMAGE = '1.2.840.10008.5.1.4.1.1.128';
export const US_IMAGE = '1.2.840.10008.5.1.4.1.1.6.1';
export const CR_IMAGE = '1.2.840.10008.5.1.4.1.1.1';
export const MG_IMAGE = '1.2.840.10008.5.1.4.1.1.1.2';

export const P1 = { system: 'urn:oid:1.2.392.100.1', value: 'PID-1', issuer: 'HOSP_A', name: 'Martin^Claire' };
export const P2 = { system: 'https://hosp-b.example/mrn', value: 'PID-2', issuer: 'HOSP_B', name: 'Dubois^Paul' };
export const P3 = { system: 'urn:oid:1.2.3.999', value: 'PID-3', issuer: undefined, name: 'Leroy^Anne' };
type P = typeof P1 | typeof P3;

interface SeriesSpec {
  modality: string;
  bodyPart?: string;
  sopClass: string;
}
interface StudySpec {
  n: number;
  patient: P;
  date?: string;
  time?: string;
  offset?: string;
  accession?: string;
  procedure?: { code: string; scheme: string; meaning: string };
  series: SeriesSpec[];
}

export const uid = (n: number) => `1.2.826.0.1.3680043.8.498.7${n}`;
export const seriesUid = (n: number, s: number) => `${uid(n)}.${s + 1}`;
export const instanceUid = (n: number, s: number) => `${uid(n)}.${s + 1}.1`;

export const STUDIES: StudySpec[] = [
  { n: 1, patient: P1, date: '20240705', time: '143000', offset: '+0900', accession: 'ACC-1', procedure: { code: 'RPID16', scheme: 'RADLEX', meaning: 'CT Chest' }, series: [{ modality: 'CT', bodyPart: 'CHEST', sopClass: CT_IMAGE }] },
  { n: 2, patient: P1, date: '20240706', accession: 'ACC-2', procedure: { code: 'MRHEAD', scheme: '99HOSP', meaning: 'MR Head' }, series: [{ modality: 'MR', bodyPart: 'HEAD', sopClass: MR_IMAGE }] },
  { n: 3, patient: P1, date: '20231231', time: '2330', accession: 'ACC-3', series: [{ modality: 'PT', bodyPart: 'WHOLEBODY', sopClass: PET_IMAGE }, { modality: 'CT', bodyPart: 'WHOLEBODY', sopClass: CT_IMAGE }] },
  { n: 4, patient: P2, date: '20240115', time: '100000', offset: '-0500', accession: 'ACC-4', series: [{ modality: 'US', bodyPart: 'ABDOMEN', sopClass: US_IMAGE }] },
  { n: 5, patient: P2, date: '20240705', time: '233000', offset: '+0000', accession: 'ACC-5', series: [{ modality: 'CR', bodyPart: 'CHEST', sopClass: CR_IMAGE }] },
  { n: 6, patient: P2, accession: 'ACC-6', series: [{ modality: 'MR', bodyPart: 'KNEE', sopClass: MR_IMAGE }] },
  { n: 7, patient: P3, date: '20220310', time: '080000', offset: '+0100', series: [{ modality: 'CT', bodyPart: 'HEAD', sopClass: CT_IMAGE }] },
  { n: 8, patient: P3, date: '20240229', time: '120000', offset: '+0100', accession: 'ACC-8', series: [{ modality: 'MG', bodyPart: 'BREAST', sopClass: MG_IMAGE }] },
];

export const ALL = STUDIES.map((s) => uid(s.n));
export const ids = (...ns: number[]) => ns.map(uid).sort();

export function studyState(spec: StudySpec): StudyState {
  const base = minimalStudy();
  return {
    ...base,
    studyInstanceUid: uid(spec.n),
    patient: {
      patientName: { alphabetic: spec.patient.name },
      patientId: spec.patient.value,
      ...(spec.patient.issuer ? { issuerOfPatientId: spec.patient.issuer } : {}),
      patientSex: 'F',
    },
    study: {
      studyInstanceUid: uid(spec.n),
      ...(spec.date ? { studyDate: spec.date } : {}),
      ...(spec.time ? { studyTime: spec.time } : {}),
      ...(spec.offset ? { timezoneOffsetFromUtc: spec.offset } : {}),
      ...(spec.accession ? { accessionNumber: spec.accession } : {}),
      studyId: `S${spec.n}`,
      studyDescription: `Study ${spec.n}`,
      ...(spec.procedure
        ? { procedureCodes: [{ codeValue: spec.procedure.code, codingSchemeDesignator: spec.procedure.scheme, codeMeaning: spec.procedure.meaning }] }
        : {}),
    },
    series: spec.series.map((s, i) =>
      series(
        { seriesInstanceUid: seriesUid(spec.n, i), seriesNumber: i + 1, modality: s.modality, ...(s.bodyPart ? { bodyPartExamined: s.bodyPart } : {}) },
        [instance(instanceUid(spec.n, i), s.sopClass, { instanceNumber: 1 })],
      ),
    ),
  };
}

/** Every resource the publisher would put: ImagingStudy, Patient, Endpoint (with deterministic ids). */
export function dataSet(version: FhirVersion): FhirResource[] {
  const opts = options({ fhirVersion: version, timezone: TIMEZONE, endpointReference: `Endpoint/${ENDPOINT_ID}` });
  const out: FhirResource[] = [{ ...mapEndpoint(WADO_BASE, version), id: ENDPOINT_ID } as unknown as FhirResource];
  const patients = new Map<string, FhirResource>();
  for (const spec of STUDIES) {
    const state = studyState(spec);
    out.push({ ...(mapImagingStudy(state, opts) as unknown as FhirResource), id: imagingStudyId(state.studyInstanceUid) });
    patients.set(spec.patient.value, { ...(mapPatient(state, opts) as unknown as FhirResource), id: patientId(spec.patient) });
  }
  return [...out, ...patients.values()];
}

export interface Served {
  url: string;
  index: SqliteResourceIndex;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; type: string | null; body: any }>;
  close(): Promise<void>;
}

/** Index + handler on node:http on a free port. */
export async function serve(version: FhirVersion, extra: Partial<FhirEndpointDependencies> = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-index-'));
  const index = new SqliteResourceIndex({ dataDir: dir, fhirVersion: version, timezone: TIMEZONE });
  await index.put(dataSet(version));
  const deps: FhirEndpointDependencies = { index, fhirVersion: version, timezone: TIMEZONE, ...extra };
  const server: Server = createServer((req, res) => {
    if (!handleFhirRequest(req, res, deps)) {
      res.writeHead(404);
      res.end();
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    index,
    async get(path, headers = {}) {
      const res = await fetch(`${url}${path}`, { headers });
      const text = await res.text();
      return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ids of a searchset Bundle's entries, sorted. */
export function entryIds(bundle: any): string[] {
  return ((bundle.entry ?? []) as Array<{ resource: { id: string } }>).map((e) => e.resource.id).sort();
}
