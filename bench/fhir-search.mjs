#!/usr/bin/env node
/**
 * Benchmark (not a test): the built-in FHIR endpoint's ImagingStudy search
 * over 10,000 studies in the SQLite resource index.
 *
 *   npm run build && node bench/fhir-search.mjs [--studies 10000] [--runs 200]
 *
 * Builds synthetic studies (1 patient per 10 studies, 1–3 series of mixed
 * modalities, dates over 2019–2024 in mixed timezones), maps them with the
 * real mapImagingStudy (R4), puts them into a fresh index in batches of 500,
 * then times each search (parse + index search, page of 50) and prints a table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mapImagingStudy } from '../dist/fhir/index.js';
import { parseImagingStudySearch } from '../dist/fhir-endpoint/index.js';
import { imagingStudyId, patientId } from '../dist/fhir/resource-ids.js';
import { SqliteResourceIndex } from '../dist/fhir-endpoint/sqlite-resource-index.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const STUDIES = arg('studies', 10_000);
const RUNS = arg('runs', 200);
const TZ = 'Europe/Paris';
const MODALITIES = [['CT', '1.2.840.10008.5.1.4.1.1.2', 'CHEST'], ['MR', '1.2.840.10008.5.1.4.1.1.4', 'HEAD'], ['US', '1.2.840.10008.5.1.4.1.1.6.1', 'ABDOMEN'], ['CR', '1.2.840.10008.5.1.4.1.1.1', 'CHEST'], ['PT', '1.2.840.10008.5.1.4.1.1.128', 'WHOLEBODY'], ['MG', '1.2.840.10008.5.1.4.1.1.1.2', 'BREAST']];
const OFFSETS = ['+0100', '+0200', '-0500', '+0900', undefined];
let seed = 42;
/** mulberry32: a small seeded PRNG, so every run builds the same data. */
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const rnd = (n) => Math.floor(random() * n);
const pad = (n, w = 2) => String(n).padStart(w, '0');

const options = {
  fhirVersion: 'R4',
  patientIdentifier: { defaultSystem: 'urn:oid:1.2.3.999', issuerSystems: {} },
  timezone: TZ,
  basedOn: 'accession',
  endpointReference: 'Endpoint/e-1',
};

function state(i) {
  const uid = `1.2.826.0.1.3680043.8.498.9.${i}`;
  const nSeries = 1 + rnd(3);
  const year = 2019 + rnd(6);
  return {
    studyInstanceUid: uid,
    patient: { patientId: `PID-${Math.floor(i / 10)}`, patientName: { alphabetic: `Patient^${Math.floor(i / 10)}` } },
    study: {
      studyInstanceUid: uid,
      studyDate: `${year}${pad(1 + rnd(12))}${pad(1 + rnd(28))}`,
      ...(rnd(10) ? { studyTime: `${pad(rnd(24))}${pad(rnd(60))}00` } : {}),
      ...(OFFSETS[rnd(5)] ? { timezoneOffsetFromUtc: OFFSETS[rnd(5)] ?? '+0000' } : {}),
      accessionNumber: `ACC-${i}`,
    },
    series: Array.from({ length: nSeries }, (_, s) => {
      const [modality, sopClass, bodyPartExamined] = MODALITIES[rnd(MODALITIES.length)];
      return {
        attributes: { seriesInstanceUid: `${uid}.${s + 1}`, seriesNumber: s + 1, modality, bodyPartExamined },
        instances: Array.from({ length: 3 }, (_, k) => ({ sopInstanceUid: `${uid}.${s + 1}.${k + 1}`, sopClassUid: sopClass, instanceNumber: k + 1 })),
      };
    }),
    lastReceipt: { callingAeTitle: 'SCU', calledAeTitle: 'BRIDGE', peerAddress: '127.0.0.1', transferSyntaxUid: '1.2.840.10008.1.2.1', receivedAt: '2024-01-01T00:00:00Z', bytesReceived: 1 },
    firstReceivedAt: '2024-01-01T00:00:00Z',
    lastReceivedAt: '2024-01-01T00:00:00Z',
  };
}

const dir = mkdtempSync(join(tmpdir(), 'fhir-bench-'));
const index = new SqliteResourceIndex({ dataDir: dir, fhirVersion: 'R4', timezone: TZ });
try {
  const t0 = performance.now();
  for (let start = 0; start < STUDIES; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(STUDIES, start + 500); i++) {
      const s = state(i);
      batch.push({ ...mapImagingStudy(s, options), id: imagingStudyId(s.studyInstanceUid) });
    }
    await index.put(batch);
  }
  const putMs = performance.now() - t0;
  console.log(`put ${STUDIES} ImagingStudy: ${putMs.toFixed(0)} ms (${((putMs / STUDIES) * 1000).toFixed(0)} µs each)`);

  const p = patientId({ system: 'urn:oid:1.2.3.999', value: 'PID-123' });
  const searches = [
    ['patient=Patient/<id>', `patient=Patient/${p}`],
    ['patient.identifier (chain)', `patient.identifier=urn:oid:1.2.3.999|PID-123`],
    ['accession=', 'accession=ACC-4567'],
    ['identifier= (study UID)', 'identifier=urn:dicom:uid|urn:oid:1.2.826.0.1.3680043.8.498.9.777'],
    ['modality=MG (page 50)', 'modality=MG'],
    ['modality=MG _summary=count', 'modality=MG&_summary=count'],
    ['started=2023-05', 'started=2023-05'],
    ['started=ge2024-06-01 _sort=-started', 'started=ge2024-06-01&_sort=-started'],
    ['modality=CT&started=2022&bodysite', 'modality=CT&started=2022&bodysite=816094009'],
    ['all, _sort=-started, _offset=5000', '_sort=-started&_offset=5000'],
  ];
  const rows = [];
  for (const [name, query] of searches) {
    const times = [];
    let total = 0;
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      const parsed = parseImagingStudySearch(new URLSearchParams(query), { version: 'R4', timezone: TZ, lenient: false });
      const result = await index.search('ImagingStudy', parsed.totalOnly ? { ...parsed.search, count: 0 } : parsed.search);
      times.push(performance.now() - t);
      total = result.total;
    }
    times.sort((a, b) => a - b);
    rows.push({ search: name, total, 'median ms': +times[Math.floor(RUNS / 2)].toFixed(3), 'p95 ms': +times[Math.floor(RUNS * 0.95)].toFixed(3) });
  }
  console.table(rows);
} finally {
  await index.close();
  rmSync(dir, { recursive: true, force: true });
}
