/**
 * `import files` end to end, in both modes: generated studies (folders, a
 * DICOMDIR, a file that is not DICOM) → the durable queue → the daemon →
 * the FHIR server. Embedded mode imports while the daemon is stopped (DATA_DIR
 * is one process's) and the daemon publishes at its next start; Redis mode
 * imports while it runs.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { importCli } from '../import/cli.js';
import { imagingStudies, publishedOnServer, storescu } from './helpers.js';
import { expectLiveValuesKept, ImportDaemon } from './import-daemon.js';
import { MODES, ModeEnvironment } from './modes.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

describe.each(MODES)('import files, %s mode', { timeout: 240_000 }, (mode) => {
  const modes = new ModeEnvironment(mode);
  let fhir: TestFhirServer;
  let env: Record<string, string>;
  let dataDir: string;
  const studies: GeneratedStudy[] = [];
  let work: string;
  let dicomdirFolder: string;
  let junk: string;

  const daemon = new ImportDaemon(mode, () => ({ dataDir, env }));
  const startBridge = () => daemon.start();
  const importFiles = (args: string[]) => daemon.import(['files', ...args]);
  const drained = () => daemon.drained();

  beforeAll(async () => {
    fhir = await startFhirServer();
    env = await modes.env({ FHIR_BASE_URL: fhir.baseUrl, PUBLISH_DEBOUNCE_MS: '300', PUBLISH_MAX_DELAY_MS: '5000' });
    dataDir = mkdtempSync(join(tmpdir(), 'import-files-data-'));
    work = mkdtempSync(join(tmpdir(), 'import-files-'));
    for (let i = 0; i < 3; i++) {
      studies.push(
        await generateStudy({ series: 2, instances: 3, modalities: ['CT', 'MR'], accession: `ACC${i}`, studyDate: `2024030${i + 1}`, parentDir: work }),
      );
    }
    // The third study also as a DICOMDIR file set (ISO 9660 names, as dcmmkdir wants them).
    dicomdirFolder = join(work, 'fileset');
    mkdirSync(join(dicomdirFolder, 'S1'), { recursive: true });
    studies[2]!.files.forEach((f, i) => copyFileSync(f, join(dicomdirFolder, 'S1', `IM${i + 1}`)));
    const made = await run('dcmmkdir', ['--recurse', 'S1'], { cwd: dicomdirFolder });
    expect(made.code, made.stderr).toBe(0);
    junk = join(studies[0]!.dir, 'notes.txt');
    writeFileSync(junk, 'not a DICOM file\n');
  });

  afterAll(async () => {
    await daemon.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    for (const s of studies) removeStudy(s.dir);
    await fhir?.close();
    await modes.close();
  });

  it('--dry-run counts what a run would queue, names the file that is not DICOM, and opens no store', async () => {
    const dry = await importCli(['files', '--dry-run', studies[0]!.dir, studies[1]!.dir, join(dicomdirFolder, 'DICOMDIR')], {
      ...env,
      DATA_DIR: join(dataDir, 'never'),
    });
    expect(dry.code, dry.stderr).toBe(1);
    expect(dry.stdout).toContain('dry run: 3 studies, 18 instances would be imported');
    expect(dry.stdout).toContain(`${junk}: not a DICOM Part 10 file`);
    expect(existsSync(join(dataDir, 'never'))).toBe(false);
  });

  it('queues folders and a DICOMDIR; the daemon publishes exactly what the files hold', async () => {
    if (mode === 'redis') await startBridge();
    const result = await importFiles([studies[0]!.dir, studies[1]!.dir, dicomdirFolder]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('3 studies (18 instances) queued, 0 skipped');
    expect(result.stdout).toContain(`${junk}: not a DICOM Part 10 file (no DICM prefix)`);
    for (const [i, study] of studies.entries()) {
      const resource = await publishedOnServer(fhir, study.studyInstanceUid, 6);
      expect(resource.numberOfSeries).toBe(2);
      expect(resource.modality.map((m: any) => m.code).sort()).toEqual(['CT', 'MR']);
      expect(resource.identifier.some((id: any) => id.value === `ACC${i}`)).toBe(true);
      const uids = resource.series.flatMap((s: any) => s.instance.map((x: any) => x.uid)).sort();
      expect(uids).toEqual(study.series.flatMap((s) => s.sopInstanceUids).sort());
      for (const series of resource.series) {
        expect(series.modality).toMatchObject({ system: DCM, code: study.series.find((s) => s.seriesInstanceUid === series.uid)!.modality });
      }
    }
  });

  it('--resume skips what the same run queued; a plain second import writes nothing to the FHIR server', async () => {
    await drained();
    const writes = fhir.writeCount();
    const resumed = await importFiles(['--resume', studies[0]!.dir, studies[1]!.dir, dicomdirFolder]);
    expect(resumed.stdout, resumed.stderr).toContain('0 studies (0 instances) queued, 3 skipped');
    const again = await importFiles([studies[0]!.dir, studies[1]!.dir, dicomdirFolder]);
    expect(again.stdout, again.stderr).toContain('3 studies (18 instances) queued, 0 skipped');
    await drained();
    expect(fhir.writeCount()).toBe(writes);
    for (const study of studies) expect(await imagingStudies(fhir, study.studyInstanceUid)).toHaveLength(1);
  });

  it('a study sent live by storescu and also imported ends once and keeps the live attributes', async () => {
    const live = await generateStudy({ series: 1, instances: 3, seed: 17, studyDescription: 'LIVE', accession: 'LIVEACC', parentDir: work });
    const archived = await generateStudy({ series: 1, instances: 3, seed: 17, studyDescription: 'ARCHIVE', accession: 'OLDACC', parentDir: work });
    studies.push(live, archived);
    expect(archived.studyInstanceUid).toBe(live.studyInstanceUid);
    const sent = await storescu(await startBridge(), live.files);
    expect(sent.code, sent.stderr).toBe(0);
    await publishedOnServer(fhir, live.studyInstanceUid, 3);
    const result = await importFiles([archived.dir]);
    expect(result.code, result.stderr).toBe(0);
    await drained();
    await expectLiveValuesKept(fhir, live.studyInstanceUid);
  });

  it('while the daemon runs: embedded mode refuses, naming the daemon; Redis mode imports beside it', async () => {
    await startBridge();
    const result = await importCli(['files', studies[0]!.dir], { ...env, DATA_DIR: dataDir });
    if (mode === 'embedded') {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('cannot open the store');
      expect(result.stderr).toContain('stop the daemon and import again');
      expect(readdirSync(dataDir)).toContain('bridge.sqlite');
    } else {
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toContain('1 study (6 instances) queued');
      expect(result.stdout).toContain(`${junk}: not a DICOM Part 10 file`);
    }
  });
});
