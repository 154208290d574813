import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, removeStudy } from '../support/generate-study.js';
import { imagingStudies, published, storescu, storescuTracked } from './helpers.js';
import { MODES, ModeEnvironment } from './modes.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

describe.each(MODES)('%s mode', (mode) => {
  const modes = new ModeEnvironment(mode);
  afterAll(() => modes.close());

  describe('end to end (storescu → bridge → FHIR server)', () => {
    let fhir: TestFhirServer;
    let bridge: BridgeProcess;

    beforeAll(async () => {
      fhir = await startFhirServer();
      bridge = await startBridgeProcess({
        env: await modes.env({ FHIR_BASE_URL: fhir.baseUrl, PUBLISH_DEBOUNCE_MS: '500', PUBLISH_MAX_DELAY_MS: '10000' }),
      });
    });

    afterAll(async () => {
      expect(await bridge?.stop()).toBe(0);
      bridge?.cleanup();
      await fhir?.close();
    });

    it('publishes one ImagingStudy with exact counts for 2 series × 20 instances (CT and PT), and a re-send changes nothing', async () => {
      const study = await generateStudy({ series: 2, instances: 20, modalities: ['CT', 'PT'], size: 'small' });
      try {
        const sent = await storescu(bridge, [study.dir], ['+sd', '+r']);
        expect(sent.code, sent.stderr).toBe(0);
        await published(bridge, study.studyInstanceUid, 40);

        const resources = await imagingStudies(fhir, study.studyInstanceUid);
        expect(resources).toHaveLength(1);
        const resource = resources[0];
        expect(resource.numberOfSeries).toBe(2);
        expect(resource.numberOfInstances).toBe(40);
        expect(resource.status).toBe('available');
        expect(resource.modality.map((m: any) => [m.system, m.code]).sort()).toEqual([
          [DCM, 'CT'],
          [DCM, 'PT'],
        ]);
        const sentUids = study.series.flatMap((s) => s.sopInstanceUids).sort();
        const publishedUids = resource.series.flatMap((s: any) => s.instance.map((i: any) => i.uid)).sort();
        expect(publishedUids).toEqual(sentUids);
        for (const series of resource.series) {
          const expected = study.series.find((s) => s.seriesInstanceUid === series.uid)!;
          expect(series.modality).toMatchObject({ system: DCM, code: expected.modality });
          expect(series.numberOfInstances).toBe(20);
        }

        const writesBefore = fhir.writeCount('ImagingStudy');
        const again = await storescu(bridge, [study.dir], ['+sd', '+r']);
        expect(again.code, again.stderr).toBe(0);
        // Give the pipeline more than the debounce to act on the re-send.
        await new Promise((r) => setTimeout(r, 2_000));
        await published(bridge, study.studyInstanceUid, 40);
        const after = await imagingStudies(fhir, study.studyInstanceUid);
        expect(after).toHaveLength(1);
        const { meta: _m1, ...withoutMeta } = after[0];
        const { meta: _m2, ...beforeWithoutMeta } = resource;
        expect(withoutMeta).toEqual(beforeWithoutMeta);
        expect(fhir.writeCount('ImagingStudy') - writesBefore).toBeLessThanOrEqual(1);
      } finally {
        removeStudy(study.dir);
      }
    });

    it('costs at most 5 FHIR writes for a 500-instance study', async () => {
      const study = await generateStudy({ series: 1, instances: 500, modalities: ['CT'], size: 'small' });
      try {
        const writesBefore = fhir.writeCount('ImagingStudy');
        const sent = await storescu(bridge, [study.dir], ['+sd', '+r']);
        expect(sent.code, sent.stderr).toBe(0);
        await published(bridge, study.studyInstanceUid, 500);
        // Wait one debounce more so a trailing publish would be counted too.
        await new Promise((r) => setTimeout(r, 1_500));
        const writes = fhir.writeCount('ImagingStudy') - writesBefore;
        expect(writes).toBeGreaterThanOrEqual(1);
        expect(writes).toBeLessThanOrEqual(5);
        const [resource] = await imagingStudies(fhir, study.studyInstanceUid);
        expect(resource.numberOfInstances).toBe(500);
      } finally {
        removeStudy(study.dir);
      }
    });
  });

  describe('without a FHIR server', () => {
    it('keeps the generated ImagingStudy in the store, visible at GET /studies/{uid}', async () => {
      const bridge = await startBridgeProcess({ env: await modes.env({ PUBLISH_DEBOUNCE_MS: '200' }) });
      const study = await generateStudy({ series: 2, instances: 3, modalities: ['MR', 'MR'], size: 'small' });
      try {
        expect(bridge.output()).toMatch(/FHIR_BASE_URL\) is unset/);
        const sent = await storescu(bridge, [study.dir], ['+sd', '+r']);
        expect(sent.code, sent.stderr).toBe(0);
        const body = await published(bridge, study.studyInstanceUid, 6);
        expect(body.numberOfSeries).toBe(2);
        expect(body.fhirServer).toBeNull();
        expect(body.lastResource.resourceType).toBe('ImagingStudy');
        expect(body.lastResource.numberOfInstances).toBe(6);
        expect(body.lastResource.identifier[0]).toEqual({ system: 'urn:dicom:uid', value: `urn:oid:${study.studyInstanceUid}` });
        const missing = await bridge.get('/studies/1.2.3.4.5.6.7.8.9');
        expect(missing.status).toBe(404);
      } finally {
        expect(await bridge.stop()).toBe(0);
        bridge.cleanup();
        removeStudy(study.dir);
      }
    });
  });

  describe('durability: kill -9 in the middle of a send', () => {
    it('loses no acknowledged instance of a 1,000-instance send; the sender re-sends what failed; counts are exact', async () => {
      const fhir = await startFhirServer();
      const study = await generateStudy({ series: 2, instances: 500, modalities: ['CT', 'CT'], size: 'small' });
      const env = await modes.env({ FHIR_BASE_URL: fhir.baseUrl, PUBLISH_DEBOUNCE_MS: '300', PUBLISH_MAX_DELAY_MS: '3000' });
      let bridge = await startBridgeProcess({ env });
      try {
        let killed = false;
        const { code: senderCode, acknowledged } = await storescuTracked(bridge, study.files, (count) => {
          if (count === 300 && !killed) {
            killed = true;
            void bridge.kill9();
          }
        });
        expect(killed).toBe(true);
        expect(senderCode).not.toBe(0);
        expect(acknowledged.size).toBeGreaterThanOrEqual(300);
        expect(acknowledged.size).toBeLessThan(1000);

        bridge = await startBridgeProcess({ env, dataDir: bridge.dataDir });
        const unacknowledged = study.files.filter((f) => !acknowledged.has(f));
        const resent = await storescu(bridge, unacknowledged);
        expect(resent.code, resent.stderr).toBe(0);

        const body = await published(bridge, study.studyInstanceUid, 1000, 90_000);
        expect(body.numberOfSeries).toBe(2);
        const [resource, ...others] = await imagingStudies(fhir, study.studyInstanceUid);
        expect(others).toHaveLength(0);
        expect(resource.numberOfInstances).toBe(1000);
        const uids = new Set(resource.series.flatMap((s: any) => s.instance.map((i: any) => i.uid)));
        expect(uids.size).toBe(1000);
      } finally {
        await bridge.stop();
        bridge.cleanup();
        removeStudy(study.dir);
        await fhir.close();
      }
    });

    // Issue 20: a CT record is committed at its header, while its pixel data still streams in, so a
    // kill lands between that commit and the response, or mid-pixel-data, or anywhere else.
    it.each([20, 55])(
      'CT, records committed at their header: kill -9 after %i acknowledged (+0-3 ms): every acknowledged instance is in the store before any re-send',
      async (killAfter) => {
        const study = await generateStudy({ series: 1, instances: 90, modalities: ['CT'], size: 'ct' });
        const uidOf = new Map(study.files.map((file, i) => [file, study.series[0]!.sopInstanceUids[i]!]));
        const env = await modes.env({ PUBLISH_DEBOUNCE_MS: '200', PUBLISH_MAX_DELAY_MS: '2000' });
        let bridge = await startBridgeProcess({ env });
        try {
          let killed = false;
          const { acknowledged } = await storescuTracked(bridge, study.files, (count) => {
            if (count === killAfter && !killed) {
              killed = true;
              setTimeout(() => void bridge.kill9(), Math.floor(Math.random() * 4));
            }
          });
          expect(killed).toBe(true);
          expect(acknowledged.size).toBeGreaterThanOrEqual(killAfter);
          expect(acknowledged.size).toBeLessThan(90);

          // Restarted on the same data: before anything is sent again, the store holds every acknowledged instance.
          bridge = await startBridgeProcess({ env, dataDir: bridge.dataDir });
          const wanted = [...acknowledged].map((file) => uidOf.get(file)!);
          const stored = await eventually(async () => {
            const { status, body } = await bridge.get(`/studies/${study.studyInstanceUid}`);
            if (status !== 200 || body.publishState !== 'published' || !body.lastResource) return undefined;
            const uids = new Set<string>(body.lastResource.series.flatMap((s: any) => s.instance.map((i: any) => i.uid)));
            return wanted.every((uid) => uids.has(uid)) ? uids : undefined;
          }, 60_000, 'every acknowledged instance in the published study');
          // At most the one in flight at the kill beyond them (committed at its header, never acknowledged: kept).
          expect(stored.size - wanted.length).toBeLessThanOrEqual(1);

          const unacknowledged = study.files.filter((f) => !acknowledged.has(f));
          const resent = await storescu(bridge, unacknowledged);
          expect(resent.code, resent.stderr).toBe(0);
          const body = await published(bridge, study.studyInstanceUid, 90, 90_000);
          const uids = new Set(body.lastResource.series.flatMap((s: any) => s.instance.map((i: any) => i.uid)));
          expect(uids).toEqual(new Set(study.series[0]!.sopInstanceUids));
        } finally {
          await bridge.stop();
          bridge.cleanup();
          removeStudy(study.dir);
        }
      },
      240_000,
    );
  });
});
