/**
 * Key Object Selection key images end to end (storescu → bridge), in the
 * embedded and the Redis mode: a "For Report Attachment" (113020) KOS
 * referencing 3 instances across 2 series (frames on one) becomes R5
 * ImagingSelection resources / an STU3 ImagingManifest read from the
 * built-in FHIR endpoint, and R4 Basic resources (FHIR_KEY_IMAGES=extensions)
 * written to the validating test FHIR server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XVER_IMAGING_SELECTION_EXT, XVER_IMAGING_SELECTION_PROFILE } from '../../src/fhir/map-key-images.js';
import { keyImageId } from '../../src/fhir/resource-ids.js';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { validateR4, validateR5 } from '../support/fhir-validate.js';
import { assertStu3ImagingManifestShape } from '../support/fhir-validate-manifest.js';
import { generateStudy, PYTHON, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { publishedOnServer, storescu } from './helpers.js';
import { MODES, ModeEnvironment } from './modes.js';

const MAKE_KOS = fileURLToPath(new URL('../../fixtures/make-kos.py', import.meta.url));
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const KOS_CLASS = '1.2.840.10008.5.1.4.1.1.88.59';
const TITLE = 'For Report Attachment';

interface Kos {
  path: string;
  sopInstanceUid: string;
}

/** A 113020 KOS referencing series 0 instances 0 and 1 (frames 1 and 3 of the latter) and series 1 instance 2. */
async function makeKos(dir: string, study: GeneratedStudy): Promise<Kos> {
  const out = path.join(dir, 'kos-113020.dcm');
  const [a, b] = study.series;
  const args = [MAKE_KOS, '--out', out, '--study-uid', study.studyInstanceUid, '--title', '113020'];
  args.push('--ref', `${a!.seriesInstanceUid},${CT_IMAGE_STORAGE},${a!.sopInstanceUids[0]!}`);
  args.push('--ref', `${a!.seriesInstanceUid},${CT_IMAGE_STORAGE},${a!.sopInstanceUids[1]!},1/3`);
  args.push('--ref', `${b!.seriesInstanceUid},${CT_IMAGE_STORAGE},${b!.sopInstanceUids[2]!}`);
  const result = await run(PYTHON, args);
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { path: string; sopInstanceUid: string };
  return { path: summary.path, sopInstanceUid: summary.sopInstanceUid };
}

/** What the KOS selects, per series: instance UID → frame subset. */
function expectedSelection(study: GeneratedStudy): Record<string, Record<string, string[] | undefined>> {
  const [a, b] = study.series;
  return {
    [a!.seriesInstanceUid]: { [a!.sopInstanceUids[0]!]: undefined, [a!.sopInstanceUids[1]!]: ['1', '3'] },
    [b!.seriesInstanceUid]: { [b!.sopInstanceUids[2]!]: undefined },
  };
}

async function fhirRead(bridge: BridgeProcess, type: string, id: string): Promise<any> {
  return eventually(
    async () => {
      const r = await bridge.get(`/fhir/${type}/${id}`);
      return r.status === 200 ? r.body : undefined;
    },
    60_000,
    `${type}/${id} on the built-in FHIR endpoint`,
  );
}

describe.each(MODES)('%s mode', (mode) => {
  const modes = new ModeEnvironment(mode);
  let kosDir: string;
  let study: GeneratedStudy;
  let kos: Kos;

  beforeAll(async () => {
    kosDir = await mkdtemp(path.join(tmpdir(), 'dfb-key-images-'));
    study = await generateStudy({ series: 2, instances: 3, modalities: ['CT', 'CT'], size: 'small' });
    kos = await makeKos(kosDir, study);
  });

  afterAll(async () => {
    if (study) await removeStudy(study.dir);
    if (kosDir) await rm(kosDir, { recursive: true, force: true });
    await modes.close();
  });

  const send = async (bridge: BridgeProcess) => {
    const sent = await storescu(bridge, [study.dir, kos.path], ['+sd', '+r']);
    expect(sent.code, sent.stderr).toBe(0);
  };

  describe('R5, built-in FHIR endpoint', () => {
    let bridge: BridgeProcess;
    beforeAll(async () => {
      bridge = await startBridgeProcess({ env: await modes.env({ FHIR_VERSION: 'R5', PUBLISH_DEBOUNCE_MS: '300' }) });
    });
    afterAll(async () => {
      expect(await bridge?.stop()).toBe(0);
      bridge?.cleanup();
    });

    it('one ImagingSelection per referenced series, valid R5, code 113020, the selected instances and frames', async () => {
      await send(bridge);
      const expected = expectedSelection(study);
      for (const [seriesUid, instances] of Object.entries(expected)) {
        const selection = await fhirRead(bridge, 'ImagingSelection', keyImageId(kos.sopInstanceUid, seriesUid));
        expect(validateR5(selection)).toEqual([]);
        expect(selection.id).toBe(keyImageId(kos.sopInstanceUid, seriesUid));
        expect(selection.status).toBe('available');
        expect(selection.code.coding).toContainEqual(expect.objectContaining({ code: '113020', display: TITLE }));
        expect(selection.studyUid).toBe(study.studyInstanceUid);
        expect(selection.seriesUid).toBe(seriesUid);
        expect(selection.identifier.map((i: any) => i.value)).toEqual([`urn:oid:${kos.sopInstanceUid}`, `urn:oid:${seriesUid}`]);
        expect(Object.fromEntries(selection.instance.map((i: any) => [i.uid, i.subset]))).toEqual(instances);
        // derivedFrom is the local ImagingStudy, which the endpoint answers too.
        expect(selection.derivedFrom).toHaveLength(1);
        const studyRef: string = selection.derivedFrom[0].reference;
        const imagingStudy = await bridge.get(`/fhir/${studyRef}`);
        expect(imagingStudy.status).toBe(200);
        expect(imagingStudy.body.identifier).toContainEqual(expect.objectContaining({ value: `urn:oid:${study.studyInstanceUid}` }));
      }
      const metadata = await bridge.get('/fhir/metadata');
      expect(metadata.body.rest[0].resource.map((r: any) => r.type)).toEqual(['ImagingStudy', 'Patient', 'Endpoint', 'ImagingSelection']);
    });
  });

  describe('STU3, built-in FHIR endpoint', () => {
    let bridge: BridgeProcess;
    beforeAll(async () => {
      bridge = await startBridgeProcess({ env: await modes.env({ FHIR_VERSION: 'STU3', PUBLISH_DEBOUNCE_MS: '300' }) });
    });
    afterAll(async () => {
      expect(await bridge?.stop()).toBe(0);
      bridge?.cleanup();
    });

    it('one ImagingManifest for the KOS, of STU3 shape, listing the selected instances of both series', async () => {
      await send(bridge);
      const manifest = await fhirRead(bridge, 'ImagingManifest', keyImageId(kos.sopInstanceUid));
      expect(assertStu3ImagingManifestShape(manifest)).toEqual([]);
      expect(manifest.identifier).toEqual({ system: 'urn:ietf:rfc:3986', value: `urn:oid:${kos.sopInstanceUid}` });
      expect(manifest.description).toContain(TITLE);
      expect(manifest.study).toHaveLength(1);
      expect(manifest.study[0].uid).toBe(`urn:oid:${study.studyInstanceUid}`);
      const listed = Object.fromEntries(
        manifest.study[0].series.map((s: any) => [s.uid, s.instance.map((i: any) => i.uid).sort()]),
      );
      const expected = Object.fromEntries(
        Object.entries(expectedSelection(study)).map(([series, instances]) => [
          `urn:oid:${series}`,
          Object.keys(instances).map((u) => `urn:oid:${u}`).sort(),
        ]),
      );
      expect(listed).toEqual(expected);
      const imagingStudy = await bridge.get(`/fhir/${manifest.study[0].imagingStudy.reference}`);
      expect(imagingStudy.status).toBe(200);
      expect(imagingStudy.body.uid).toBe(`urn:oid:${study.studyInstanceUid}`);
    });
  });

  describe('R4 with FHIR_KEY_IMAGES=extensions, validating FHIR server', () => {
    let fhir: TestFhirServer;
    let bridge: BridgeProcess;
    beforeAll(async () => {
      fhir = await startFhirServer();
      bridge = await startBridgeProcess({
        env: await modes.env({ FHIR_BASE_URL: fhir.baseUrl, FHIR_KEY_IMAGES: 'extensions', PUBLISH_DEBOUNCE_MS: '300' }),
      });
    });
    afterAll(async () => {
      expect(await bridge?.stop()).toBe(0);
      bridge?.cleanup();
      await fhir?.close();
    });

    it('a valid Basic per referenced series on the server; the ImagingStudy lists the KO series titled "For Report Attachment"', async () => {
      await send(bridge);
      // 6 images + the KOS (a KO instance of its own series).
      const imagingStudy = await publishedOnServer(fhir, study.studyInstanceUid, 7);
      const ko = imagingStudy.series.find((s: any) => s.modality?.code === 'KO');
      expect(ko).toBeDefined();
      expect(ko.instance.map((i: any) => [i.uid, i.sopClass.code, i.title])).toEqual([
        [kos.sopInstanceUid, `urn:oid:${KOS_CLASS}`, TITLE],
      ]);

      const query = `Basic?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${kos.sopInstanceUid}`)}`;
      const basics = await eventually(
        async () => {
          const bundle = await fhir.search(query);
          const found = (bundle.entry ?? []).map((e: any) => e.resource);
          return found.length === 2 ? found : undefined;
        },
        60_000,
        'two Basic key-image resources on the FHIR server',
      );
      const expected = expectedSelection(study);
      const bySeries: Record<string, any> = {};
      for (const basic of basics) {
        expect(validateR4(basic)).toEqual([]);
        expect(basic.meta.profile).toEqual([XVER_IMAGING_SELECTION_PROFILE]);
        expect(basic.code.coding).toContainEqual(expect.objectContaining({ code: '113020', display: TITLE }));
        const ext = (name: string) => basic.extension.filter((e: any) => e.url === `${XVER_IMAGING_SELECTION_EXT}.${name}`);
        expect(ext('derivedFrom').map((e: any) => e.valueReference)).toEqual([{ reference: `ImagingStudy/${imagingStudy.id}` }]);
        const instances = Object.fromEntries(
          ext('instance').map((e: any) => {
            const uid = e.extension.find((x: any) => x.url === 'uid').valueId;
            const subset = e.extension.filter((x: any) => x.url === 'subset').map((x: any) => x.valueString);
            return [uid, subset.length > 0 ? subset : undefined];
          }),
        );
        bySeries[ext('seriesUid')[0].valueId] = instances;
      }
      expect(bySeries).toEqual(expected);

      // Every key-image write is a conditional update keyed by KOS + series.
      const basicPuts = () => fhir.requests.filter((r) => r.url.includes('/Basic'));
      expect(basicPuts().length).toBeGreaterThanOrEqual(2);
      for (const r of basicPuts()) {
        expect(r.method).toBe('PUT');
        expect(r.url).toMatch(/\/Basic\?identifier=[^&]+&identifier=[^&]+$/);
      }

      // Idempotent: a republish writes the same two resources again and creates none.
      const before = basicPuts().length;
      const republish = await fetch(`http://127.0.0.1:${bridge.httpPort}/studies/${study.studyInstanceUid}/republish`, { method: 'POST' });
      expect(republish.status).toBe(202);
      await eventually(async () => (basicPuts().length >= before + 2 ? true : undefined), 60_000, 'the key images written again');
      await eventually(
        async () => ((await bridge.get(`/studies/${study.studyInstanceUid}`)).body.publishState === 'published' ? true : undefined),
        60_000,
        'the republish done',
      );
      expect((await fhir.search(query)).entry).toHaveLength(2);
    });
  });
});
