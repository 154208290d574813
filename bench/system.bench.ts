/**
 * Whole-system benchmark: `npm run bench` (builds, then runs this file with
 * vitest.bench.config.ts). Prints one Markdown table per section; reports,
 * never asserts on timings. It does check that the data arrived (exact
 * counts): that is correctness, not speed.
 *
 * Environment knobs (for quick iterations; the defaults are the issue's):
 *   BENCH_RUNS=3            runs per measurement (the median is reported)
 *   BENCH_ONLY=ingest,e2e,writes,scale   sections to run (default all)
 *   BENCH_RECEIVERS=...     comma list of receiver kinds for the ingest section
 *   BENCH_CT=500 BENCH_SMALL_STUDIES=20 BENCH_SMALL_PER_STUDY=100
 *   BENCH_WARMUP=1000       instances of the warm-up study every receiver gets first
 *   BENCH_OUT=FILE          also write the tables to FILE
 *   BENCH_PROFILE=DIR       run the bridge with `node --cpu-prof` into DIR
 *   BENCH_REDIS_APPENDFSYNC=everysec   Redis mode's appendfsync (default always)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapImagingStudy, type MappingOptions } from '../src/fhir/index.js';
import type { StudyState } from '../src/dicom/study-state.js';
import { startFhirServer, type TestFhirServer } from '../test/support/fhir-server.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../test/support/generate-study.js';
import {
  cpuSeconds,
  fmt,
  loadNow,
  machineInfo,
  median,
  orthancInstalled,
  peakRssMb,
  percentile,
  sendParallel,
  sleep,
  startReceiver,
  table,
  totalBytes,
  type Receiver,
  type ReceiverKind,
  type ReceiverOptions,
} from './support.js';

const env = process.env;
const RUNS = Number(env.BENCH_RUNS ?? 3);
const ONLY = new Set((env.BENCH_ONLY ?? 'ingest,e2e,writes,scale').split(','));
const CT_COUNT = Number(env.BENCH_CT ?? 500);
const SMALL_STUDIES = Number(env.BENCH_SMALL_STUDIES ?? 20);
const SMALL_PER_STUDY = Number(env.BENCH_SMALL_PER_STUDY ?? 100);
// A bridge in production is long-running and V8 optimises as code runs: every receiver first gets
// the same warm-up study (DCMTK and Orthanc gain nothing from it, the bridge's JIT does).
const WARMUP = Number(env.BENCH_WARMUP ?? 1000);
const E2E_STUDIES = 20;
const E2E_INSTANCES = 10;
const E2E_DEBOUNCE_MS = 500;
const WRITES_DEBOUNCE_MS = 2000; // the defaults: PUBLISH_DEBOUNCE_MS 2000, PUBLISH_MAX_DELAY_MS 30000
const ALL_KINDS: ReceiverKind[] = ['storescp --ignore', 'storescp -od', 'Orthanc', 'durable floor', 'bridge embedded', 'bridge Redis'];
const KINDS = (env.BENCH_RECEIVERS ? (env.BENCH_RECEIVERS.split(',') as ReceiverKind[]) : ALL_KINDS).filter(
  (k) => k !== 'Orthanc' || orthancInstalled(),
);
const BRIDGES: ReceiverKind[] = ['bridge embedded', 'bridge Redis'];

const output: string[] = [];
function report(title: string, text: string): void {
  const block = `\n### ${title}\n\n${text}\n`;
  output.push(block);
  console.log(block);
}

/** How the bridge is started: its environment plus `extra`; with BENCH_PROFILE, --cpu-prof on its command line (Node 20 refuses it in NODE_OPTIONS). */
function bridgeOptions(extra: Record<string, string> = {}): ReceiverOptions {
  const bridgeEnv = { LOG_LEVEL: 'info', ...extra };
  return env.BENCH_PROFILE ? { bridgeEnv, bridgeNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_PROFILE}`] } : { bridgeEnv };
}

interface DataSet {
  name: string;
  files: string[];
  bytes: number;
  studies: GeneratedStudy[];
}

const sets: DataSet[] = [];
/** Undefined with BENCH_WARMUP=0 (a cold start is measured). */
let warmup: GeneratedStudy | undefined;
let fhir: TestFhirServer | undefined;

beforeAll(async () => {
  report('Machine', machineInfo());
  if (WARMUP > 0) warmup = await generateStudy({ instances: WARMUP, size: 'small', patientId: 'WARMUP' });
  if (ONLY.has('ingest') || ONLY.has('writes')) {
    const ct = await generateStudy({ instances: CT_COUNT, size: 'ct' });
    sets.push({ name: `CT 512×512, ${CT_COUNT} in 1 study`, files: ct.files, bytes: ct.bytes, studies: [ct] });
  }
  if (ONLY.has('ingest')) {
    const small: GeneratedStudy[] = [];
    for (let i = 0; i < SMALL_STUDIES; i++) small.push(await generateStudy({ instances: SMALL_PER_STUDY, size: 'small', patientId: `S${i}` }));
    const files = small.flatMap((s) => s.files);
    sets.push({ name: `small 64×64, ${files.length} in ${SMALL_STUDIES} studies`, files, bytes: totalBytes(files), studies: small });
  }
  if (ONLY.has('e2e') || ONLY.has('writes')) fhir = await startFhirServer();
  if (env.BENCH_PROFILE) mkdirSync(env.BENCH_PROFILE, { recursive: true });
}, 600_000);

afterAll(async () => {
  await fhir?.close();
  for (const s of sets) for (const st of s.studies) await removeStudy(st.dir);
  if (warmup) await removeStudy(warmup.dir);
  output.push(`\nLoad average at the end (1/5/15 min): ${loadNow()}\n`);
  console.log(output[output.length - 1]);
  if (env.BENCH_OUT) writeFileSync(env.BENCH_OUT, output.join(''));
});

/** Waits until the receiver reports `expected` accepted instances (undefined: it cannot tell). */
async function expectAccepted(rx: Receiver, expected: number): Promise<void> {
  let got: number | undefined;
  for (let i = 0; i < 100; i++) {
    got = await rx.acceptedCount();
    if (got === undefined || got === expected) break;
    await sleep(100);
  }
  if (got !== undefined) expect(got, `${rx.kind} accepted`).toBe(expected);
}

describe.runIf(ONLY.has('ingest'))('ingest', () => {
  it('instances/s and MB/s per receiver', async () => {
    interface Sample { seconds: number; rss: number; cpu: number }
    const samples = new Map<string, Sample[]>();
    const key = (set: DataSet, assocs: number, kind: ReceiverKind) => `${set.name}|${assocs}|${kind}`;
    for (const set of sets)
      for (const assocs of [1, 4])
        for (let run = 0; run < RUNS; run++)
          // kinds interleaved within a run, so load drifts hit every receiver alike
          for (const kind of KINDS) {
            const rx = await startReceiver(kind, bridgeOptions());
            try {
              if (warmup) await sendParallel(rx, warmup.files, 1);
              const pids = [rx.pid, ...rx.helperPids];
              const cpu0 = pids.reduce((n, p) => n + cpuSeconds(p), 0);
              const seconds = await sendParallel(rx, set.files, assocs);
              const cpu = pids.reduce((n, p) => n + cpuSeconds(p), 0) - cpu0;
              const rss = peakRssMb(rx.pid);
              await expectAccepted(rx, (warmup?.files.length ?? 0) + set.files.length);
              const list = samples.get(key(set, assocs, kind)) ?? [];
              list.push({ seconds, rss, cpu });
              samples.set(key(set, assocs, kind), list);
            } finally {
              await rx.stop();
            }
          }
    const rows: (string | number)[][] = [];
    const memRows: (string | number)[][] = [];
    for (const set of sets)
      for (const assocs of [1, 4]) {
        const med = (kind: ReceiverKind) => median((samples.get(key(set, assocs, kind)) ?? []).map((s) => s.seconds));
        const ignore = med('storescp --ignore');
        const od = med('storescp -od');
        for (const kind of KINDS) {
          const list = samples.get(key(set, assocs, kind)) ?? [];
          const s = median(list.map((x) => x.seconds));
          const rss = median(list.map((x) => x.rss));
          const cpuMs = (median(list.map((x) => x.cpu)) * 1000) / set.files.length;
          rows.push([set.name, assocs, kind, fmt(set.files.length / s), fmt(set.bytes / 1e6 / s, 1), fmt(od / s, 2), fmt(ignore / s, 2), fmt(cpuMs, 2), fmt(rss)]);
          if (assocs === 4 && set === sets[0] && BRIDGES.includes(kind)) memRows.push([kind, set.name, assocs, fmt(rss), fmt(Math.max(...list.map((x) => x.rss)))]);
        }
      }
    report(
      `Ingest (median of ${RUNS}; after a ${WARMUP}-instance warm-up per receiver; bridge: full process, FHIR_BASE_URL unset)`,
      table(['set', 'assocs', 'receiver', 'instances/s', 'MB/s', '× storescp -od', '× storescp --ignore', 'CPU ms/instance', 'peak RSS MB'], rows),
    );
    if (memRows.length) report('Memory: bridge peak RSS (VmHWM) during 4 parallel associations of CT data', table(['receiver', 'set', 'assocs', 'median MB', 'max MB'], memRows));
  }, 3_600_000);
});

/** Index of the first 2xx write (at or after `from`) carrying an ImagingStudy of `uid` with `count` instances. */
function findFullWrite(server: TestFhirServer, from: number, uid: string, count: number): number {
  const reqs = server.requests;
  for (let i = from; i < reqs.length; i++) {
    const r = reqs[i]!;
    if (r.status < 200 || r.status >= 300 || (r.method !== 'PUT' && r.method !== 'POST')) continue;
    const body = r.body as { resourceType?: string; entry?: { resource?: unknown }[] } | undefined;
    const resources = body?.resourceType === 'Bundle' ? (body.entry ?? []).map((e) => e.resource) : [body];
    for (const res of resources) {
      const study = res as { resourceType?: string; numberOfInstances?: number; identifier?: { value?: string }[] } | undefined;
      if (study?.resourceType === 'ImagingStudy' && study.numberOfInstances === count && study.identifier?.some((id) => id.value?.endsWith(uid))) return i;
    }
  }
  return -1;
}

async function waitFullWrite(server: TestFhirServer, from: number, uid: string, count: number, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (findFullWrite(server, from, uid, count) >= 0) return performance.now();
    if (performance.now() - t0 > timeoutMs) throw new Error(`no ImagingStudy ${uid} with ${count} instances within ${timeoutMs} ms`);
    await sleep(2);
  }
}

describe.runIf(ONLY.has('e2e'))('end to end', () => {
  it(`last C-STORE response → ImagingStudy with full counts, ${E2E_STUDIES} studies × ${E2E_INSTANCES}`, async () => {
    const studies: GeneratedStudy[] = [];
    for (let i = 0; i < E2E_STUDIES; i++) studies.push(await generateStudy({ instances: E2E_INSTANCES, size: 'small', patientId: `E${i}` }));
    const rows: (string | number)[][] = [];
    try {
      for (const kind of BRIDGES) {
        const p50s: number[] = [];
        const p95s: number[] = [];
        const maxes: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          fhir!.reset();
          const rx = await startReceiver(kind, bridgeOptions({ FHIR_BASE_URL: fhir!.baseUrl, PUBLISH_DEBOUNCE_MS: String(E2E_DEBOUNCE_MS) }));
          try {
            if (warmup) {
              await sendParallel(rx, warmup.files, 1);
              await waitFullWrite(fhir!, 0, warmup.studyInstanceUid, warmup.files.length);
            }
            const latencies: number[] = [];
            for (const study of studies) {
              const from = fhir!.requests.length;
              await sendParallel(rx, study.files, 1);
              const t0 = performance.now(); // storescu has exited: last C-STORE-RSP received, association released
              const t1 = await waitFullWrite(fhir!, from, study.studyInstanceUid, study.files.length);
              latencies.push(t1 - t0);
            }
            p50s.push(percentile(latencies, 50));
            p95s.push(percentile(latencies, 95));
            maxes.push(Math.max(...latencies));
          } finally {
            await rx.stop();
          }
        }
        const p50 = median(p50s);
        const p95 = median(p95s);
        rows.push([kind, E2E_DEBOUNCE_MS, fmt(p50), fmt(p95), fmt(p50 - E2E_DEBOUNCE_MS), fmt(p95 - E2E_DEBOUNCE_MS), fmt(median(maxes))]);
      }
    } finally {
      for (const s of studies) await removeStudy(s.dir);
    }
    report(
      `End to end (median of ${RUNS} runs; ${E2E_STUDIES} studies × ${E2E_INSTANCES} small instances sent one after another, 1 association each; Medplum test FHIR server)`,
      table(['bridge', 'PUBLISH_DEBOUNCE_MS', 'p50 ms', 'p95 ms', 'p50 − debounce ms', 'p95 − debounce ms', 'max ms'], rows),
    );
  }, 1_800_000);
});

describe.runIf(ONLY.has('writes'))('FHIR writes per study', () => {
  it(`${CT_COUNT}-instance burst, default debounce`, async () => {
    const set = sets[0]!;
    const uid = set.studies[0]!.studyInstanceUid;
    const rows: (string | number)[][] = [];
    for (const kind of BRIDGES) {
      const writes: number[] = [];
      const lags: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        fhir!.reset();
        const rx = await startReceiver(kind, bridgeOptions({ FHIR_BASE_URL: fhir!.baseUrl }));
        try {
          if (warmup) {
            await sendParallel(rx, warmup.files, 1);
            await waitFullWrite(fhir!, 0, warmup.studyInstanceUid, warmup.files.length);
          }
          await sleep(WRITES_DEBOUNCE_MS + 500);
          const before = fhir!.writeCount('ImagingStudy');
          const from = fhir!.requests.length;
          await sendParallel(rx, set.files, 1);
          const t0 = performance.now();
          const t1 = await waitFullWrite(fhir!, from, uid, set.files.length, 120_000);
          lags.push(t1 - t0);
          await sleep(WRITES_DEBOUNCE_MS + 1000); // any trailing write would come within a debounce
          writes.push(fhir!.writeCount('ImagingStudy') - before);
        } finally {
          await rx.stop();
        }
      }
      rows.push([kind, set.name, writes.join(', '), fmt(median(writes)), fmt(median(lags))]);
    }
    report(
      `FHIR writes per study (PUBLISH_DEBOUNCE_MS 2000, PUBLISH_MAX_DELAY_MS 30000; 1 association; ${RUNS} runs)`,
      table(['bridge', 'burst', 'ImagingStudy writes per run', 'median', 'last C-STORE-RSP → full write ms'], rows),
    );
  }, 1_800_000);
});

function buildState(instances: number): StudyState {
  const uid = '1.2.826.0.1.3680043.8.498.77';
  const seriesCount = 4;
  const per = Math.ceil(instances / seriesCount);
  const receipt = { callingAeTitle: 'SCU', calledAeTitle: 'FHIRBRIDGE', peerAddress: '127.0.0.1', transferSyntaxUid: '1.2.840.10008.1.2.1', receivedAt: '2024-03-01T10:00:00Z', bytesReceived: 528_000 };
  return {
    studyInstanceUid: uid,
    specificCharacterSet: 'ISO_IR 100',
    patient: { patientId: 'PID-1', patientName: { alphabetic: 'Doe^Jane' }, patientBirthDate: '19700101', patientSex: 'F' },
    study: { studyInstanceUid: uid, studyDate: '20240301', studyTime: '102030', accessionNumber: 'ACC1', studyDescription: 'CT chest abdomen pelvis' },
    series: Array.from({ length: seriesCount }, (_, s) => ({
      attributes: { seriesInstanceUid: `${uid}.${s + 1}`, seriesNumber: s + 1, modality: 'CT', bodyPartExamined: 'CHEST', seriesDescription: `Series ${s + 1}` },
      instances: Array.from({ length: Math.min(per, instances - s * per) }, (_, k) => ({
        sopInstanceUid: `${uid}.${s + 1}.${k + 1}`,
        sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
        instanceNumber: k + 1,
      })),
    })),
    lastReceipt: receipt,
    firstReceivedAt: '2024-03-01T10:00:00Z',
    lastReceivedAt: '2024-03-01T10:05:00Z',
  };
}

describe.runIf(ONLY.has('scale'))('scale of a study', () => {
  it('mapImagingStudy + JSON.stringify of 5,000 and 20,000 instances', () => {
    const options: MappingOptions = {
      fhirVersion: 'R4',
      patientIdentifier: { defaultSystem: 'urn:dicom-fhir-bridge:patient-id', issuerSystems: {} },
      timezone: 'Europe/Paris',
      basedOn: 'accession',
      endpointReference: 'Endpoint/e-1',
    };
    const rows: (string | number)[][] = [];
    for (const n of [5_000, 20_000]) {
      const state = buildState(n);
      const map: number[] = [];
      const ser: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 3 + 5; i++) {
        const t0 = performance.now();
        const resource = mapImagingStudy(state, options);
        const t1 = performance.now();
        const json = JSON.stringify(resource);
        const t2 = performance.now();
        expect((resource as { numberOfInstances?: number }).numberOfInstances).toBe(n);
        bytes = Buffer.byteLength(json);
        if (i >= 3) {
          map.push(t1 - t0);
          ser.push(t2 - t1);
        }
      }
      const total = median(map.map((m, i) => m + ser[i]!));
      rows.push([n.toLocaleString('en'), fmt(median(map), 1), fmt(median(ser), 1), fmt(total, 1), fmt((total * 1000) / n, 2), fmt(bytes / 1e6, 2), fmt(bytes / n)]);
    }
    report(
      'Scale of a study (in process, 4 series; 3 warm-ups, median of 5)',
      table(['instances', 'map ms', 'stringify ms', 'total ms', 'µs per instance', 'payload MB', 'bytes per instance'], rows),
    );
  });
});
