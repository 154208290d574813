#!/usr/bin/env node
/**
 * Benchmark (not a test): the built-in FHIR endpoint's ImagingStudy search
 * over 10,000 studies in the SQLite resource index, three ways in one run:
 *
 *   in process  SqliteResourceIndex called on this thread (the index alone);
 *   worker      RemoteResourceIndex over dist/'s sqlite-index-worker.js, as the
 *               daemon runs it (its own thread; the page crosses as JSON texts);
 *   HTTP        GET /fhir/ImagingStudy?… on the daemon's HTTP server
 *               (createHttpServer, loopback access) over that worker index,
 *               from a keep-alive client in this process, body read whole.
 *
 *   npm run build && node bench/fhir-search.mjs [--studies 10000] [--runs 200]
 *
 * Builds synthetic studies (1 patient per 10 studies, 1–3 series of mixed
 * modalities, dates over 2019–2024 in mixed timezones), maps them with the
 * real mapImagingStudy (R4) and puts them in process (faster than through the
 * worker: no clone) in batches of 500; the closed file is copied so the
 * in-process index and the worker each open one (exclusive locking). Each
 * search (parse + index search, a page of at most 50) is then timed the three
 * ways in turn (the first rotating), run after run, and a Markdown table of
 * p50 / p95 / p99 per way is printed,
 * with what the worker and HTTP add (median of the per-run differences).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { mapImagingStudy } from '../dist/fhir/index.js';
import { parseImagingStudySearch } from '../dist/fhir-endpoint/index.js';
import { imagingStudyId, patientId } from '../dist/fhir/resource-ids.js';
import { INDEX_FILE, RemoteResourceIndex } from '../dist/fhir-endpoint/remote-resource-index.js';
import { SqliteResourceIndex } from '../dist/fhir-endpoint/sqlite-resource-index.js';
import { HttpAccess } from '../dist/http/access.js';
import { createHttpServer } from '../dist/http/server.js';

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

/** One search the three ways: in process, through the worker, over HTTP. */
function searchers(local, remote, port) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const parse = (query) => parseImagingStudySearch(new URLSearchParams(query), { version: 'R4', timezone: TZ, lenient: false });
  const viaIndex = (index) => async (query) => {
    const parsed = parse(query);
    const result = await index.search('ImagingStudy', parsed.totalOnly ? { ...parsed.search, count: 0 } : parsed.search);
    return { total: result.total, page: result.resources.length };
  };
  const viaHttp = (query) =>
    new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: `/fhir/ImagingStudy?${query}`, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`));
          const body = Buffer.concat(chunks);
          // Parsed only when asked (after the runs): the client's own parse is not the endpoint's time.
          resolve({ get total() { return JSON.parse(body).total; }, page: body.length });
        });
        res.on('error', reject);
      }).on('error', reject);
    });
  return { ways: { 'in process': viaIndex(local), worker: viaIndex(remote), HTTP: viaHttp }, close: () => agent.destroy() };
}

const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const ms = (t) => t.toFixed(3);

const root = mkdtempSync(join(tmpdir(), 'fhir-bench-'));
const [localDir, workerDir] = [join(root, 'in-process'), join(root, 'worker')];
mkdirSync(workerDir);
const logger = pino({ level: 'silent' });
let local;
let remote;
let http;
try {
  const loader = new SqliteResourceIndex({ dataDir: localDir, fhirVersion: 'R4', timezone: TZ });
  const t0 = performance.now();
  for (let start = 0; start < STUDIES; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(STUDIES, start + 500); i++) {
      const s = state(i);
      batch.push({ ...mapImagingStudy(s, options), id: imagingStudyId(s.studyInstanceUid) });
    }
    await loader.put(batch);
  }
  const putMs = performance.now() - t0;
  await loader.close();
  console.log(`put ${STUDIES} ImagingStudy (in process): ${putMs.toFixed(0)} ms (${((putMs / STUDIES) * 1000).toFixed(0)} µs each)`);
  copyFileSync(join(localDir, INDEX_FILE), join(workerDir, INDEX_FILE));

  local = new SqliteResourceIndex({ dataDir: localDir, fhirVersion: 'R4', timezone: TZ });
  // As the bridge opens it (bridge.ts openLocalIndex), STORAGE_COMMIT_TIMEOUT_MS at its default.
  remote = new RemoteResourceIndex({ dataDir: workerDir, fhirVersion: 'R4', timezone: TZ, timeoutMs: 10_000, logger });
  await remote.ready;
  http = createHttpServer({
    store: undefined,
    queue: undefined,
    isReady: () => true,
    logger,
    fhirTarget: undefined,
    schedule: { debounceMs: 0, maxDelayMs: 0 },
    access: new HttpAccess({ host: '127.0.0.1' }),
    fhirEndpoint: { index: remote, fhirVersion: 'R4', timezone: TZ, logger },
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { ways, close: closeClient } = searchers(local, remote, http.address().port);

  const p = patientId({ system: 'urn:oid:1.2.3.999', value: 'PID-123' });
  const searches = [
    ['patient=Patient/{id}', `patient=Patient/${p}`],
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
  const names = Object.keys(ways);
  const rows = [];
  for (const [name, query] of searches) {
    const times = Object.fromEntries(names.map((way) => [way, []]));
    const seen = {};
    // Warm-up (not timed), then the ways in turn each run: the same moment of the machine for all three.
    // Which goes first rotates, so that the garbage one way leaves on this thread is not always collected in the same other's time.
    for (let r = -10; r < RUNS; r++) {
      const first = (r + 10) % names.length;
      for (const way of [...names.slice(first), ...names.slice(0, first)]) {
        const t = performance.now();
        seen[way] = await ways[way](query);
        if (r >= 0) times[way].push(performance.now() - t);
      }
    }
    if (seen.worker.total !== seen['in process'].total || seen.HTTP.total !== seen.worker.total) throw new Error(`${name}: totals differ ${JSON.stringify(seen)}`);
    const row = { search: name, total: seen.worker.total, page: seen.worker.page, 'HTTP body kB': +(seen.HTTP.page / 1000).toFixed(0) };
    // What a layer adds: the median of the per-run differences (runs side by side), steadier than a difference of medians.
    const added = (over, under) => ms(percentile(times[over].map((t, r) => t - times[under][r]).sort((a, b) => a - b), 0.5));
    row['worker hop ms'] = added('worker', 'in process');
    row['HTTP over worker ms'] = added('HTTP', 'worker');
    for (const way of names) {
      const sorted = [...times[way]].sort((a, b) => a - b);
      row[`${way} p50 / p95 / p99 ms`] = [0.5, 0.95, 0.99].map((q) => ms(percentile(sorted, q))).join(' / ');
    }
    rows.push(row);
  }
  closeClient();
  // A Markdown table: the README's is pasted from it.
  const columns = Object.keys(rows[0]);
  console.log(`\n${RUNS} runs per search and way, ${STUDIES} studies\n`);
  console.log(`| ${columns.join(' | ')} |\n|${columns.map((c, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${columns.map((c) => row[c]).join(' | ')} |`);
} finally {
  await new Promise((resolve) => (http ? http.close(resolve) : resolve()));
  await local?.close();
  await remote?.close();
  rmSync(root, { recursive: true, force: true });
}
