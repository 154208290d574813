/**
 * IHE IOCM rejection notes end to end (storescu → bridge → test FHIR R4
 * server), in the embedded and the Redis mode: rejected instances leave the
 * ImagingStudy, a re-send of one is answered with a warning, a note sent
 * before its instances still applies, and a study with every instance
 * rejected ends entered-in-error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, PYTHON, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { imagingStudies, published, publishedOnServer, storescu } from './helpers.js';
import { MODES, ModeEnvironment } from './modes.js';

const MAKE_KOS = fileURLToPath(new URL('../../fixtures/make-kos.py', import.meta.url));
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/** Writes a KOS (title `title`) referencing `refs` of a generated CT study; returns its path and SOP Instance UID. */
async function makeKos(
  dir: string,
  study: GeneratedStudy,
  title: string,
  refs: Array<{ series: number; index: number }>,
): Promise<{ path: string; sopInstanceUid: string }> {
  const out = path.join(dir, `kos-${title}-${Date.now()}.dcm`);
  const args = [MAKE_KOS, '--out', out, '--study-uid', study.studyInstanceUid, '--title', title];
  for (const r of refs) {
    const series = study.series[r.series]!;
    args.push('--ref', `${series.seriesInstanceUid},${CT_IMAGE_STORAGE},${series.sopInstanceUids[r.index]!}`);
  }
  const result = await run(PYTHON, args);
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { path: string; sopInstanceUid: string };
  return { path: summary.path, sopInstanceUid: summary.sopInstanceUid };
}

const instanceUids = (resource: any): string[] =>
  (resource.series ?? []).flatMap((s: any) => (s.instance ?? []).map((i: any) => i.uid)).sort();

describe.each(MODES)('%s mode', (mode) => {
  const modes = new ModeEnvironment(mode);
  afterAll(() => modes.close());

  describe('IHE IOCM rejection notes (storescu → bridge → FHIR server)', () => {
    let fhir: TestFhirServer;
    let bridge: BridgeProcess;
    let kosDir: string;

    beforeAll(async () => {
      kosDir = await mkdtemp(path.join(tmpdir(), 'dfb-kos-'));
      fhir = await startFhirServer();
      bridge = await startBridgeProcess({
        env: await modes.env({ FHIR_BASE_URL: fhir.baseUrl, PUBLISH_DEBOUNCE_MS: '300', PUBLISH_MAX_DELAY_MS: '5000' }),
      });
    });

    afterAll(async () => {
      expect(await bridge?.stop()).toBe(0);
      bridge?.cleanup();
      await fhir?.close();
      if (kosDir) await rm(kosDir, { recursive: true, force: true });
    });

    it('a quality rejection of 3 of 20 instances leaves 17; a re-send of a rejected one gets warning B006 and changes nothing', async () => {
      const study = await generateStudy({ series: 2, instances: 10, modalities: ['CT', 'CT'], size: 'small' });
      try {
        const sent = await storescu(bridge, [study.dir], ['+sd', '+r']);
        expect(sent.code, sent.stderr).toBe(0);
        await published(bridge, study.studyInstanceUid, 20);
        await publishedOnServer(fhir, study.studyInstanceUid, 20);

        const kos = await makeKos(kosDir, study, '113001', [
          { series: 0, index: 1 },
          { series: 0, index: 4 },
          { series: 1, index: 9 },
        ]);
        const rejectedUids = [study.series[0]!.sopInstanceUids[1]!, study.series[0]!.sopInstanceUids[4]!, study.series[1]!.sopInstanceUids[9]!];
        const kosSent = await storescu(bridge, [kos.path]);
        expect(kosSent.code, kosSent.stderr).toBe(0);
        await published(bridge, study.studyInstanceUid, 17);

        const resource = await publishedOnServer(fhir, study.studyInstanceUid, 17);
        expect(resource.status).toBe('available');
        expect(resource.numberOfSeries).toBe(2);
        const counts = Object.fromEntries(resource.series.map((s: any) => [s.uid, [s.numberOfInstances, s.instance.length]]));
        expect(counts).toEqual({
          [study.series[0]!.seriesInstanceUid]: [8, 8],
          [study.series[1]!.seriesInstanceUid]: [9, 9],
        });
        const expected = study.series.flatMap((s) => s.sopInstanceUids).filter((u) => !rejectedUids.includes(u)).sort();
        expect(instanceUids(resource)).toEqual(expected);
        // The note is about the study, not in it.
        expect(instanceUids(resource)).not.toContain(kos.sopInstanceUid);

        // Re-send of a rejected instance: a warning, not a silent success, and nothing changes.
        const rejectedFile = await fileOf(study, rejectedUids[0]!);
        const writesBefore = fhir.writeCount('ImagingStudy');
        const again = await storescu(bridge, [rejectedFile], ['-v']);
        expect(again.code, again.stderr).toBe(0);
        const output = again.stdout + again.stderr;
        expect(output).toMatch(/Received Store Response \(Warning/);
        expect(output).toMatch(/Elements ?Discarded|B006/i);
        const summary = await published(bridge, study.studyInstanceUid, 17);
        expect(summary.numberOfSeries).toBe(2);
        // The re-send was not queued, so no publish follows it.
        const status = await bridge.get(`/studies/${study.studyInstanceUid}`);
        expect(status.body.numberOfInstances).toBe(17);
        expect((await imagingStudies(fhir, study.studyInstanceUid))[0].numberOfInstances).toBe(17);
        expect(fhir.writeCount('ImagingStudy')).toBe(writesBefore);
      } finally {
        await removeStudy(study.dir);
      }
    });

    it('a rejection sent before its instances (new study) still applies: the rejected ones never appear', async () => {
      const study = await generateStudy({ series: 1, instances: 6, modalities: ['CT'], size: 'small' });
      try {
        const kos = await makeKos(kosDir, study, '113037', [
          { series: 0, index: 0 },
          { series: 0, index: 3 },
        ]);
        const kosSent = await storescu(bridge, [kos.path]);
        expect(kosSent.code, kosSent.stderr).toBe(0);
        const sent = await storescu(bridge, [study.dir], ['+sd', '+r']);
        expect(sent.code, sent.stderr).toBe(0);
        await published(bridge, study.studyInstanceUid, 4);
        const resource = await publishedOnServer(fhir, study.studyInstanceUid, 4);
        const uids = study.series[0]!.sopInstanceUids;
        expect(instanceUids(resource)).toEqual([uids[1], uids[2], uids[4], uids[5]].sort());
        expect(resource.status).toBe('available');
        expect(resource.series[0].numberOfInstances).toBe(4);
      } finally {
        await removeStudy(study.dir);
      }
    });

    it('every instance rejected with 113038 (incorrect worklist entry): the ImagingStudy ends entered-in-error with 0 instances', async () => {
      const study = await generateStudy({ series: 2, instances: 2, modalities: ['CT', 'CT'], size: 'small' });
      try {
        const sent = await storescu(bridge, [study.dir], ['+sd', '+r']);
        expect(sent.code, sent.stderr).toBe(0);
        await published(bridge, study.studyInstanceUid, 4);
        await publishedOnServer(fhir, study.studyInstanceUid, 4);

        const kos = await makeKos(kosDir, study, '113038', [
          { series: 0, index: 0 },
          { series: 0, index: 1 },
          { series: 1, index: 0 },
          { series: 1, index: 1 },
        ]);
        const kosSent = await storescu(bridge, [kos.path]);
        expect(kosSent.code, kosSent.stderr).toBe(0);
        const summary = await published(bridge, study.studyInstanceUid, 0);
        expect(summary.numberOfSeries).toBe(0);

        // Accepted by the server's R4 validation (JSON schema + Medplum) and stored as such.
        const resource = await publishedOnServer(fhir, study.studyInstanceUid, 0);
        expect(resource.status).toBe('entered-in-error');
        expect(resource.numberOfSeries).toBe(0);
        expect(resource.series).toBeUndefined();
        expect(resource.identifier[0]).toEqual({ system: 'urn:dicom:uid', value: `urn:oid:${study.studyInstanceUid}` });
      } finally {
        await removeStudy(study.dir);
      }
    });
  });
});

/** The file of a generated instance (named by position, not UID: read each one's SOP Instance UID). */
async function fileOf(study: GeneratedStudy, sopInstanceUid: string): Promise<string> {
  for (const file of study.files) {
    const result = await run('dcmdump', ['+P', '0008,0018', '-q', file]);
    if (result.stdout.includes(sopInstanceUid)) return file;
  }
  throw new Error(`no generated file holds ${sopInstanceUid}`);
}
