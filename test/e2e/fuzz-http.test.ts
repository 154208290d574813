/**
 * HTTP fuzzing of a running bridge (issue 21 item 1): a few thousand
 * malformed requests (test/http/fuzz-cases.ts: request lines, targets,
 * percent-encodings, FHIR and /studies queries beyond the limits, absurd
 * headers, bodies that lie), seeded and reproducible (FUZZ_SEED, FUZZ_CASES),
 * over raw sockets against every route, with ADMIN_TOKEN and
 * FHIR_ENDPOINT_BEARER_TOKEN set (most requests carry a token, so the
 * handlers behind the access check run). Asserted:
 * - the process stays alive; every request that HTTP allows an answer to gets
 *   one, below 500 (never a 5xx, never a connection dropped unanswered);
 *   requests that are wrong by construction get a 4xx;
 * - nothing is logged at error, and request problems at most once each;
 * - afterwards /healthz answers, a DICOM C-ECHO succeeds, the stored study
 *   is still served, and the bridge's peak RSS stayed bounded.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientId } from '../../src/fhir/resource-ids.js';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { fuzzCases, type FuzzCase } from '../http/fuzz-cases.js';
import { rawExchange, type RawAnswer } from '../http/raw-client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 2121);
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const CONCURRENCY = 8;
const ADMIN_TOKEN = 'fuzz-admin-token-000000000000001';
const FHIR_TOKEN = 'fuzz-fhir-token-0000000000000002';
const PATIENT = { system: 'urn:dicom-fhir-bridge:patient-id', value: 'FUZZ-PID-2121' };
/** Peak RSS allowed for the bridge through the run (it idles near 100 MB). */
const MAX_PEAK_RSS_MB = 400;

let bridge: BridgeProcess;
let study: GeneratedStudy;

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

const auth = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };

beforeAll(async () => {
  study = await generateStudy({ series: 1, instances: 2, patientId: PATIENT.value, patientName: 'FUZZ^PATIENT', seed: 2121 });
  bridge = await startBridgeProcess({ env: { ADMIN_TOKEN, FHIR_ENDPOINT_BEARER_TOKEN: FHIR_TOKEN, PUBLISH_DEBOUNCE_MS: '100', PUBLISH_MAX_DELAY_MS: '500' } });
  const sent = await run('storescu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort), ...study.files]);
  expect(sent.code, sent.stderr).toBe(0);
  await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${bridge.httpPort}/studies/${study.studyInstanceUid}`, auth);
    return res.status === 200 && ((await res.json()) as { publishState: string }).publishState === 'published' ? true : undefined;
  }, 30_000, 'the study stored');
}, 90_000);

afterAll(async () => {
  expect(await bridge?.stop()).toBe(0);
  bridge?.cleanup();
  if (study) await removeStudy(study.dir);
});

/** Runs the cases `CONCURRENCY` at a time; the answer of each. */
async function exchangeAll(cases: FuzzCase[], port: number): Promise<RawAnswer[]> {
  const answers: RawAnswer[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      answers[i] = await rawExchange(port, c.request, { timeoutMs: 15_000, ...(c.incomplete ? { endAfterMs: 50 } : {}) });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return answers;
}

const show = (c: FuzzCase, a: RawAnswer) =>
  `case ${c.id} (${c.kind}, seed ${SEED}): ${JSON.stringify(c.request.subarray(0, 160).toString('latin1'))} → ${a.status ?? a.end} ${a.head?.split('\r\n')[0] ?? ''}`;

describe(`HTTP fuzzing (seed ${SEED}, ${CASES} cases)`, () => {
  it('the same seed gives the same requests', () => {
    const ctx = { studyUid: '1.2.3', sopInstanceUid: '1.2.3.4', patient: PATIENT, patientResourceId: 'p', adminToken: 'a', fhirToken: 'f' };
    const a = fuzzCases(SEED, 200, ctx);
    const b = fuzzCases(SEED, 200, ctx);
    expect(a.map((c) => c.request.toString('base64'))).toEqual(b.map((c) => c.request.toString('base64')));
    expect(new Set(a.map((c) => c.kind)).size).toBeGreaterThanOrEqual(8);
  });

  it('every malformed request gets an answer below 500 and the bridge keeps serving HTTP and DICOM', async () => {
    const cases = fuzzCases(SEED, CASES, {
      studyUid: study.studyInstanceUid,
      sopInstanceUid: study.series[0]!.sopInstanceUids[0]!,
      patient: PATIENT,
      patientResourceId: patientId(PATIENT),
      adminToken: ADMIN_TOKEN,
      fhirToken: FHIR_TOKEN,
    });
    const logBefore = bridge.output().length;
    const startedAt = Date.now();
    const answers = await exchangeAll(cases, bridge.httpPort);
    const elapsedMs = Date.now() - startedAt;

    expect(bridge.child.exitCode, bridge.output().slice(-2000)).toBeNull();
    const problems: string[] = [];
    const byStatus = new Map<string, number>();
    cases.forEach((c, i) => {
      const a = answers[i]!;
      const key = String(a.status ?? a.end);
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
      if (a.status === undefined) {
        if (c.expect !== 'maybe-none') problems.push(`no answer: ${show(c, a)}`);
        return;
      }
      if (!(a.status >= 200 && a.status < 500)) problems.push(`status: ${show(c, a)}`);
      else if (c.expect === '4xx' && a.status < 400) problems.push(`not refused: ${show(c, a)}`);
    });
    console.log(`HTTP fuzz: ${CASES} cases in ${elapsedMs} ms; answers ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}`);
    const kinds = problems.map((p) => /\((\S+), seed/.exec(p)?.[1]);
    expect({ count: problems.length, kinds: [...new Set(kinds)], first: problems.slice(0, 10) }).toEqual({ count: 0, kinds: [], first: [] });

    // Logs: nothing at error; request problems (the top-level guard) at most once per request.
    await new Promise((r) => setTimeout(r, 300)); // the last lines reach the pipe
    const lines = bridge
      .output()
      .slice(logBefore)
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.filter((l) => l.level >= 50).slice(0, 5)).toEqual([]);
    const warnings = lines.filter((l) => l.level >= 40);
    console.log(`HTTP fuzz: ${warnings.length} warn lines: ${JSON.stringify([...new Set(warnings.map((l) => l.msg))])}`);
    expect(warnings.length).toBeLessThanOrEqual(cases.length);

    // Still serving: health, the study (HTTP and FHIR), a C-ECHO; memory bounded.
    expect((await fetch(`http://127.0.0.1:${bridge.httpPort}/healthz`)).status).toBe(200);
    const read = await fetch(`http://127.0.0.1:${bridge.httpPort}/fhir/ImagingStudy/${study.studyInstanceUid}`, auth);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { numberOfInstances: number }).numberOfInstances).toBe(2);
    const echo = await run('echoscu', ['-aet', 'FUZZER', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort)], { timeoutMs: 20_000 });
    expect(echo.code, echo.stderr).toBe(0);
    const peak = peakRssMb(bridge.child.pid!);
    console.log(`HTTP fuzz: bridge peak RSS ${peak.toFixed(0)} MB`);
    expect(peak).toBeLessThan(MAX_PEAK_RSS_MB);
  }, 120_000);
});
