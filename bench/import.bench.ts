/**
 * Import benchmark (issue 17 item 7): `npm run bench` runs it with the
 * others; alone: `npm run build && BENCH_ONLY=import npx vitest run --config
 * vitest.bench.config.ts bench/import.bench.ts`. Orthanc holds
 * BENCH_IMPORT_STUDIES studies × BENCH_IMPORT_INSTANCES small generated
 * instances (uploaded with storescu, not timed); `import dicomweb` and
 * `import dimse` each run into a fresh embedded DATA_DIR at each
 * BENCH_IMPORT_CONCURRENCY: studies/s, instances/s and the peak RSS of the
 * import process (/usr/bin/time), beside what Orthanc alone takes to answer
 * the same queries (curl for QIDO-RS + WADO-RS metadata, findscu for the
 * C-FIND levels), so we see which side bounds the import. Reports, never
 * asserts on timings; checks the counts.
 *
 *   BENCH_IMPORT_STUDIES=200 BENCH_IMPORT_INSTANCES=50 BENCH_IMPORT_CONCURRENCY=1,2,4
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStudy, removeStudy, type GeneratedStudy } from '../test/support/generate-study.js';
import { startOrthanc, type TestOrthanc } from '../test/support/orthanc.js';
import { run } from '../test/support/run.js';
import { fmt, loadNow, machineInfo, orthancInstalled, table } from './support.js';

const env = process.env;
const ONLY = new Set((env.BENCH_ONLY ?? 'import').split(','));
const STUDIES = Number(env.BENCH_IMPORT_STUDIES ?? 200);
const INSTANCES = Number(env.BENCH_IMPORT_INSTANCES ?? 50);
const CONCURRENCY = (env.BENCH_IMPORT_CONCURRENCY ?? '1,2,4').split(',').map(Number);
const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const SERIES = 2;

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

describe.runIf(ONLY.has('import') && orthancInstalled())('import benchmark', () => {
  let orthanc: TestOrthanc;
  const studies: GeneratedStudy[] = [];
  const rows: (string | number)[][] = [];

  beforeAll(async () => {
    orthanc = await startOrthanc();
    const perSeries = Math.ceil(INSTANCES / SERIES);
    for (let i = 0; i < STUDIES; i++) {
      const study = await generateStudy({ series: SERIES, instances: perSeries, modalities: ['CT', 'MR'], accession: `B${i}` });
      studies.push(study);
      const r = await run('storescu', ['-aet', 'SCU', '-aec', orthanc.aeTitle, '+sd', '+r', '127.0.0.1', String(orthanc.dicomPort), study.dir], { timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(`storescu to Orthanc: ${r.stderr.slice(0, 300)}`);
      removeStudy(study.dir);
    }
  }, 3_600_000);

  afterAll(async () => {
    await orthanc?.stop();
    const instances = studies.reduce((n, s) => n + s.series.reduce((m, x) => m + x.sopInstanceUids.length, 0), 0);
    const text = [
      `${STUDIES} studies × ${instances / STUDIES} instances (${instances}) in Orthanc; load at the end ${loadNow()}`,
      '',
      machineInfo(),
      '',
      table(['what', '--concurrency', 'seconds', 'studies/s', 'instances/s', 'peak RSS MB'], rows),
    ].join('\n');
    console.log(`\n### Import\n\n${text}\n`);
    if (env.BENCH_OUT) writeFileSync(env.BENCH_OUT, `\n### Import\n\n${text}\n`, { flag: 'a' });
  });

  const total = () => studies.reduce((n, s) => n + s.series.reduce((m, x) => m + x.sopInstanceUids.length, 0), 0);

  it('Orthanc alone: QIDO-RS studies + WADO-RS metadata per study (one curl, sequential)', async () => {
    const urls = [`${orthanc.dicomWebUrl}/studies?limit=100000`, ...studies.map((s) => `${orthanc.dicomWebUrl}/studies/${s.studyInstanceUid}/metadata`)];
    const t0 = process.hrtime.bigint();
    const r = await run('curl', ['-sf', '-H', 'Accept: application/dicom+json', ...urls.flatMap((u) => ['-o', '/dev/null', u])], { timeoutMs: 1_800_000 });
    const s = seconds(t0);
    expect(r.code).toBe(0);
    rows.push(['Orthanc: curl QIDO + metadata', 1, fmt(s, 1), fmt(STUDIES / s, 1), fmt(total() / s, 0), '']);
  });

  it('Orthanc alone: findscu STUDY, then SERIES and IMAGE per study (one findscu a query, spawn included)', async () => {
    const find = (level: string, keys: string[]) =>
      run('findscu', ['-S', '-aet', 'BENCH', '-aec', orthanc.aeTitle, '-k', `QueryRetrieveLevel=${level}`, ...keys.flatMap((k) => ['-k', k]), '127.0.0.1', String(orthanc.dicomPort)], { timeoutMs: 600_000 });
    const t0 = process.hrtime.bigint();
    expect((await find('STUDY', ['StudyInstanceUID', 'StudyDate', 'PatientID', 'AccessionNumber'])).code).toBe(0);
    for (const s of studies) {
      expect((await find('SERIES', [`StudyInstanceUID=${s.studyInstanceUid}`, 'SeriesInstanceUID', 'Modality', 'SeriesNumber'])).code).toBe(0);
      for (const x of s.series)
        expect((await find('IMAGE', [`StudyInstanceUID=${s.studyInstanceUid}`, `SeriesInstanceUID=${x.seriesInstanceUid}`, 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber'])).code).toBe(0);
    }
    const s = seconds(t0);
    rows.push(['Orthanc: findscu STUDY/SERIES/IMAGE', 1, fmt(s, 1), fmt(STUDIES / s, 1), fmt(total() / s, 0), '']);
  });

  for (const source of ['dicomweb', 'dimse'] as const) {
    for (const concurrency of CONCURRENCY) {
      it(`bridge: import ${source} --concurrency ${concurrency}`, async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'bench-import-'));
        const timeFile = join(dataDir, 'time.txt');
        const target = source === 'dicomweb' ? orthanc.dicomWebUrl : `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`;
        try {
          const t0 = process.hrtime.bigint();
          const r = await run('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, CLI, 'import', source, '--concurrency', String(concurrency), target], {
            timeoutMs: 3_600_000,
            env: { DATA_DIR: join(dataDir, 'data'), FHIR_BASE_URL: 'http://127.0.0.1:9/fhir', LOG_LEVEL: 'warn' },
          });
          const s = seconds(t0);
          expect(r.code, r.stderr.slice(-500)).toBe(0);
          expect(r.stdout).toContain(`${STUDIES} studies (${total()} instances) queued`);
          const rssMb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) / 1024;
          rows.push([`bridge: import ${source}`, concurrency, fmt(s, 1), fmt(STUDIES / s, 1), fmt(total() / s, 0), fmt(rssMb, 0)]);
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }, 3_600_000);
    }
  }
});
