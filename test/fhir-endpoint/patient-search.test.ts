/**
 * Every documented form of the patient search of the built-in endpoint
 * (README: `patient` and `subject` as `Patient/id`, `id`, an absolute URL,
 * `:Patient`, `:identifier`, and the chain `.identifier`; tokens with or
 * without `system|`) against the same data, in STU3, R4 and R5, over the
 * SQLite and the Redis index:
 * - the resources as the publisher puts them (fhir/study-resources.ts: the
 *   ImagingStudy refers to `Patient/<id>`, the Patient carries the identifier);
 * - the same studies with a logical subject reference (identifier only, no
 *   Patient resource), as a FHIR server would hold them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mapImagingStudy } from '../../src/fhir/index.js';
import type { FhirVersion } from '../../src/fhir/mapping-options.js';
import { imagingStudyId, patientId } from '../../src/fhir/resource-ids.js';
import { localResources } from '../../src/fhir/study-resources.js';
import { handleFhirRequest } from '../../src/fhir-endpoint/index.js';
import { RedisResourceIndex } from '../../src/fhir-endpoint/redis/index.js';
import type { FhirResource, ResourceIndex } from '../../src/fhir-endpoint/resource-index.js';
import { SqliteResourceIndex } from '../../src/fhir-endpoint/sqlite-resource-index.js';
import { options } from '../fhir/fixtures.js';
import { freePort } from '../support/free-port.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { entryIds, ids, P1, P2, P3, STUDIES, studyState, TIMEZONE } from './data-set.js';

const VERSIONS: FhirVersion[] = ['STU3', 'R4', 'R5'];
const q = encodeURIComponent;

/** As the publisher feeds the built-in endpoint: ImagingStudy → Patient/<id>, with the Patient resource. */
function publishedResources(version: FhirVersion): FhirResource[] {
  const byId = new Map<string, FhirResource>();
  for (const spec of STUDIES) {
    const opts = options({ fhirVersion: version, timezone: TIMEZONE, endpointReference: undefined });
    for (const r of localResources(studyState(spec), opts, mapImagingStudy, undefined)) byId.set(`${r.resourceType}/${r.id}`, r);
  }
  return [...byId.values()];
}

/** The same studies with a logical reference by identifier, and no Patient resources. */
function logicalResources(version: FhirVersion): FhirResource[] {
  return STUDIES.map((spec) => {
    const state = studyState(spec);
    const opts = options({ fhirVersion: version, timezone: TIMEZONE, endpointReference: undefined });
    return { ...(mapImagingStudy(state, opts) as unknown as FhirResource), id: imagingStudyId(state.studyInstanceUid) };
  });
}

/** Every documented form for patient P with studies `expected`; `base` is the endpoint's URL. */
function forms(p: typeof P1 | typeof P3, base: string, withResourceForms: boolean): string[] {
  const id = patientId(p);
  const token = `${p.system}|${p.value}`;
  const list = [
    `patient:identifier=${q(token)}`,
    `patient:identifier=${q(p.value)}`,
    `subject:identifier=${q(token)}`,
    `subject:identifier=${q(p.value)}`,
    `patient.identifier=${q(token)}`,
    `patient.identifier=${q(p.value)}`,
    `subject.identifier=${q(token)}`,
    `subject.identifier=${q(p.value)}`,
  ];
  // Patient/<id> is the bridge's deterministic id: also what a logical reference by identifier is indexed as.
  list.push(`patient=Patient/${id}`, `patient=${id}`, `patient=${q(`${base}/Patient/${id}`)}`, `patient:Patient=${id}`, `subject=Patient/${id}`, `subject=${id}`);
  if (withResourceForms) list.push(`subject:Patient=${id}`);
  return list;
}

const PATIENTS: Array<[typeof P1 | typeof P3, string[]]> = [
  [P1, ids(1, 2, 3)],
  [P2, ids(4, 5, 6)],
  [P3, ids(7, 8)],
];

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
});
afterAll(async () => {
  await redis?.stop();
});

let prefixes = 0;
const INDEXES: Array<[string, (version: FhirVersion, dir: string) => ResourceIndex]> = [
  ['SQLite', (version, dir) => new SqliteResourceIndex({ dataDir: dir, fhirVersion: version, timezone: TIMEZONE })],
  ['Redis', (version) => new RedisResourceIndex({ client: redis.url, prefix: `ps${prefixes++}`, fhirVersion: version, timezone: TIMEZONE })],
];

describe.each(INDEXES)('%s index', (_name, makeIndex) => {
  describe.each(VERSIONS)('%s', (version) => {
    describe.each([
      ['as the publisher puts them (Patient/<id> reference)', publishedResources, true],
      ['with logical references by identifier', logicalResources, false],
    ] as const)('resources %s', (_shape, resources, withResourceForms) => {
      let server: Server;
      let base: string;
      let index: ResourceIndex;
      let dir: string;
      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'patient-search-'));
        index = makeIndex(version, dir);
        await index.put(resources(version));
        server = createServer((req, res) => {
          if (!handleFhirRequest(req, res, { index, fhirVersion: version, timezone: TIMEZONE })) {
            res.writeHead(404);
            res.end();
          }
        });
        const port = await freePort();
        await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
        base = `http://127.0.0.1:${port}/fhir`;
      });
      afterAll(async () => {
        await new Promise<void>((r) => server.close(() => r()));
        await index.close();
        rmSync(dir, { recursive: true, force: true });
      });

      const search = async (query: string): Promise<string[]> => {
        const res = await fetch(`${base}/ImagingStudy?${query}`);
        const body = (await res.json()) as any;
        expect(res.status, `${query}: ${JSON.stringify(body)}`).toBe(200);
        return entryIds(body);
      };

      test.each(PATIENTS)('every form finds the studies of %o', async (p, expected) => {
        for (const form of forms(p, base, withResourceForms)) expect(await search(form), form).toEqual(expected);
      });

      test('a wrong system, an unknown value or another patient find nothing; OR and AND combine', async () => {
        for (const form of [
          `patient:identifier=${q(`${P1.system}|${P2.value}`)}`,
          `patient:identifier=${q(`urn:other|${P1.value}`)}`,
          `subject:identifier=${q('PID-404')}`,
          `patient.identifier=${q(`${P2.system}|${P1.value}`)}`,
          'patient=Patient/unknown',
        ]) {
          expect(await search(form), form).toEqual([]);
        }
        expect(await search(`patient:identifier=${q(`${P1.system}|${P1.value}`)},${q(`${P3.system}|${P3.value}`)}`)).toEqual(ids(1, 2, 3, 7, 8));
        expect(await search(`subject:identifier=${q(P2.value)}&modality=MR`)).toEqual(ids(6));
      });
    });
  });
});
