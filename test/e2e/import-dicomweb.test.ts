/**
 * `import dicomweb` end to end, in both modes: studies held by a real Orthanc
 * (orthanc-dicomweb) → QIDO-RS + WADO-RS metadata → the durable queue → the
 * daemon → the FHIR server, which ends with exactly Orthanc's studies, series
 * and instances; a second import writes nothing new.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { imagingStudies, publishedOnServer } from './helpers.js';
import { ImportDaemon } from './import-daemon.js';
import { MODES, ModeEnvironment } from './modes.js';

describe.each(MODES)('import dicomweb, %s mode', { timeout: 240_000 }, (mode) => {
  const modes = new ModeEnvironment(mode);
  let fhir: TestFhirServer;
  let orthanc: TestOrthanc;
  let env: Record<string, string>;
  let dataDir: string;
  const studies: GeneratedStudy[] = [];

  const daemon = new ImportDaemon(mode, () => ({ dataDir, env }));
  const importDicomweb = (args: string[]) => daemon.import(['dicomweb', ...args, orthanc.dicomWebUrl]);

  beforeAll(async () => {
    fhir = await startFhirServer();
    orthanc = await startOrthanc();
    env = await modes.env({ FHIR_BASE_URL: fhir.baseUrl, PUBLISH_DEBOUNCE_MS: '300', PUBLISH_MAX_DELAY_MS: '5000' });
    dataDir = mkdtempSync(join(tmpdir(), 'import-dicomweb-data-'));
    for (let i = 0; i < 3; i++) {
      const study = await generateStudy({ series: 2, instances: 3, modalities: ['CT', 'MR'], accession: `WEB${i}` });
      studies.push(study);
      for (const file of study.files) await orthanc.upload(file);
    }
    if (mode === 'redis') await daemon.start();
  });

  afterAll(async () => {
    await daemon.stop();
    rmSync(dataDir, { recursive: true, force: true });
    for (const s of studies) removeStudy(s.dir);
    await orthanc?.stop();
    await fhir?.close();
    await modes.close();
  });

  it('publishes exactly the studies, series and instances Orthanc has; a second import writes nothing new', async () => {
    const result = await importDicomweb(['--concurrency', '2']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('3 studies (18 instances) queued, 0 skipped');
    expect(result.stdout).toContain(', 0 failed');
    for (const [i, study] of studies.entries()) {
      const resource = await publishedOnServer(fhir, study.studyInstanceUid, 6);
      expect(resource.numberOfSeries).toBe(2);
      expect(resource.modality.map((m: any) => m.code).sort()).toEqual(['CT', 'MR']);
      expect(resource.identifier.some((id: any) => id.value === `WEB${i}`)).toBe(true);
      expect(resource.series.flatMap((s: any) => s.instance.map((x: any) => x.uid)).sort()).toEqual(study.series.flatMap((s) => s.sopInstanceUids).sort());
    }
    const drained = () => daemon.drained();
    await drained();
    const writes = fhir.writeCount();
    const again = await importDicomweb([]);
    expect(again.code, again.stderr).toBe(0);
    await drained();
    expect(fhir.writeCount()).toBe(writes);
    for (const study of studies) expect(await imagingStudies(fhir, study.studyInstanceUid)).toHaveLength(1);
  });
});
