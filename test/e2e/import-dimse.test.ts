/**
 * `import dimse` end to end, in both modes: studies held by a real Orthanc
 * → C-FIND (Study Root: STUDY, SERIES, IMAGE) → the durable queue → the
 * daemon → the FHIR server, which ends with exactly Orthanc's studies,
 * series and instances (modalities, accession); a second import writes
 * nothing new; an import killed mid-run and run again with --resume ends
 * exact; a study sent live and also imported keeps the live attributes.
 * DCMTK's dcmqrscp as a second SCP: it returns no SOP Class UID at
 * IMAGE level, so each study fails with that reason and the exit code is 1
 * (embedded mode only: the failure is before any store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDcmqrscp } from '../support/dcmqrscp.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { freePort } from '../support/free-port.js';
import { startProcess } from '../support/processes.js';
import { makeTestPki } from '../dimse/tls-pki.js';
import { importCli } from '../import/cli.js';
import { imagingStudies, publishedOnServer, storescu } from './helpers.js';
import { expectLiveValuesKept, ImportDaemon } from './import-daemon.js';
import { MODES, ModeEnvironment } from './modes.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

describe.each(MODES)('import dimse, %s mode', { timeout: 300_000 }, (mode) => {
  const modes = new ModeEnvironment(mode);
  let fhir: TestFhirServer;
  let orthanc: TestOrthanc;
  let env: Record<string, string>;
  let dataDir: string;
  const studies: GeneratedStudy[] = [];
  const target = () => `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`;

  const daemon = new ImportDaemon(mode, () => ({ dataDir, env }));
  const importDimse = (args: string[]) => daemon.import(['dimse', ...args, target()]);
  const startBridge = () => daemon.start();
  const drained = () => daemon.drained();
  const expectExact = async (list: GeneratedStudy[], accessionPrefix: string, offset = 0) => {
    for (const [i, study] of list.entries()) {
      const resource = await publishedOnServer(fhir, study.studyInstanceUid, 6);
      expect(resource.numberOfSeries).toBe(2);
      expect(resource.numberOfInstances).toBe(6);
      expect(resource.modality.map((m: any) => m.code).sort()).toEqual(['CT', 'MR']);
      expect(resource.identifier.some((id: any) => id.value === `${accessionPrefix}${i + offset}`)).toBe(true);
      expect(resource.series.map((s: any) => s.modality.code).sort()).toEqual(['CT', 'MR']);
      expect(resource.series.flatMap((s: any) => s.instance.map((x: any) => x.uid)).sort()).toEqual(study.series.flatMap((s) => s.sopInstanceUids).sort());
      expect(await imagingStudies(fhir, study.studyInstanceUid)).toHaveLength(1);
    }
  };

  beforeAll(async () => {
    fhir = await startFhirServer();
    orthanc = await startOrthanc();
    env = await modes.env({ FHIR_BASE_URL: fhir.baseUrl, PUBLISH_DEBOUNCE_MS: '300', PUBLISH_MAX_DELAY_MS: '5000' });
    dataDir = mkdtempSync(join(tmpdir(), 'import-dimse-data-'));
    for (let i = 0; i < 3; i++) {
      const study = await generateStudy({ series: 2, instances: 3, modalities: ['CT', 'MR'], accession: `DIM${i}` });
      studies.push(study);
      for (const file of study.files) await orthanc.upload(file);
    }
    if (mode === 'redis') await startBridge();
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
    const result = await importDimse(['--concurrency', '2', '--calling-aet', 'BACKFILL']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('3 studies (18 instances) queued, 0 skipped');
    expect(result.stdout).toContain(', 0 failed');
    await expectExact(studies, 'DIM');
    await drained();
    const writes = fhir.writeCount();
    const again = await importDimse([]);
    expect(again.code, again.stderr).toBe(0);
    await drained();
    expect(fhir.writeCount()).toBe(writes);
    await expectExact(studies, 'DIM');
  });

  it('an import killed mid-run and resumed with --resume ends exact', async () => {
    const more: GeneratedStudy[] = [];
    for (let i = 0; i < 4; i++) {
      const study = await generateStudy({ series: 2, instances: 3, modalities: ['CT', 'MR'], accession: `RES${i}` });
      more.push(study);
      studies.push(study);
      for (const file of study.files) await orthanc.upload(file);
    }
    const filter = more.flatMap((s) => ['--study', s.studyInstanceUid]);
    await daemon.stopForImport();
    // One study a second, one at a time: killed (SIGKILL, no clean shutdown) once the first is queued.
    const proc = await startProcess(process.execPath, [CLI, 'import', 'dimse', '--rate', '1', '--concurrency', '1', ...filter, target()], {
      env: { ...env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    });
    await proc.waitForOutput(/queued \(6 instances\)/, 60_000);
    await proc.kill9();
    expect(proc.output()).not.toMatch(/4\/4 studies/);
    const resumed = await importCli(['dimse', '--resume', ...filter, target()], { ...env, DATA_DIR: dataDir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/studies? \(\d+ instances\) queued, [1-3] skipped \(already imported, --resume\), 0 failed/);
    await startBridge();
    await expectExact(more, 'RES');
  });


  it('Ctrl-C (SIGINT) stops the import (the C-FIND under way cancelled), exits 1 saying so; --resume then ends exact', async () => {
    const filter = studies.slice(0, 4).flatMap((s) => ['--study', s.studyInstanceUid]);
    await daemon.stopForImport();
    const proc = await startProcess(process.execPath, [CLI, 'import', 'dimse', '--rate', '1', '--concurrency', '1', ...filter, target()], {
      env: { ...env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    });
    await proc.waitForOutput(/queued \(6 instances\)/, 60_000);
    const exit = await proc.stop('SIGINT', 20_000);
    expect(exit.killedAfterTimeout).toBe(false);
    expect(exit.code).toBe(1);
    expect(proc.output()).toContain('interrupted: run the same command again with --resume to continue');
    const resumed = await importCli(['dimse', '--resume', ...filter, target()], { ...env, DATA_DIR: dataDir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/, [1-3] skipped \(already imported, --resume\), 0 failed/);
    await startBridge();
    await expectExact(studies.slice(0, 3), 'DIM');
  });

  it('a study sent live by storescu and also imported over C-FIND ends once and keeps the live attributes', async () => {
    const live = await generateStudy({ series: 1, instances: 3, seed: 29, studyDescription: 'LIVE', accession: 'LIVEACC' });
    const archived = await generateStudy({ series: 1, instances: 3, seed: 29, studyDescription: 'ARCHIVE', accession: 'OLDACC' });
    studies.push(live, archived);
    expect(archived.studyInstanceUid).toBe(live.studyInstanceUid);
    for (const file of archived.files) await orthanc.upload(file);
    const sent = await storescu(await startBridge(), live.files);
    expect(sent.code, sent.stderr).toBe(0);
    await publishedOnServer(fhir, live.studyInstanceUid, 3);
    const result = await importDimse(['--study', live.studyInstanceUid]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('1 study (3 instances) queued');
    await drained();
    await expectLiveValuesKept(fhir, live.studyInstanceUid);
  });
});

describe('import dimse from dcmqrscp', { timeout: 120_000 }, () => {
  it('a study whose IMAGE answers have no SOP Class UID (dcmqrscp does not return it) fails with that reason, exit 1, nothing queued', async () => {
    const scp = await startDcmqrscp();
    const study = await generateStudy({ series: 2, instances: 2, modalities: ['CT', 'MR'] });
    const dataDir = mkdtempSync(join(tmpdir(), 'import-dimse-qr-'));
    try {
      await scp.store(study.dir);
      const result = await importCli(['dimse', `${scp.aeTitle}@127.0.0.1:${scp.port}`], { DATA_DIR: dataDir, FHIR_BASE_URL: 'http://127.0.0.1:9/fhir' });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('0 studies (0 instances) queued, 0 skipped (already imported, --resume), 1 failed');
      expect(result.stdout).toContain(`  study ${study.studyInstanceUid}: an IMAGE-level answer cannot be read: missing SOP Class UID (0008,0016)`);
    } finally {
      await scp.stop();
      removeStudy(study.dir);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('import dimse over DICOM TLS', { timeout: 120_000 }, () => {
  it('lists and counts Orthanc\'s studies over TLS (--tls --ca-file), and refuses a server its CA does not vouch for', async () => {
    const pki = await makeTestPki();
    const orthanc = await startOrthanc({
      config: {
        DicomTlsEnabled: true,
        DicomTlsCertificate: pki.serverCert,
        DicomTlsPrivateKey: pki.serverKey,
        DicomTlsTrustedCertificates: pki.caCert,
        DicomTlsRemoteCertificateRequired: false,
      },
    });
    const study = await generateStudy({ series: 2, instances: 2, modalities: ['CT', 'MR'] });
    try {
      for (const file of study.files) await orthanc.upload(file);
      const target = `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`;
      const ok = await importCli(['dimse', '--dry-run', '--tls', '--ca-file', pki.caCert, target], {});
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('dry run: 1 study, 4 instances would be imported');
      const rogue = await importCli(['dimse', '--dry-run', '--tls', '--ca-file', pki.rogueCaCert, target], {});
      expect(rogue.code).toBe(1);
      expect(rogue.stdout).toMatch(/C-FIND STUDY at ORTHANC@127\.0\.0\.1:\d+: .*(certificate|self.signed|verify)/i);
    } finally {
      await orthanc.stop();
      removeStudy(study.dir);
      pki.remove();
    }
  });
});

describe('import dimse from an SCP that is not there', () => {
  it('is a one-line reason naming the SCP, exit 1', async () => {
    const port = await freePort();
    const result = await importCli(['dimse', '--dry-run', `PACS@127.0.0.1:${port}`], {});
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`  C-FIND STUDY at PACS@127.0.0.1:${port}: connection refused by 127.0.0.1:${port}`);
  });
});
