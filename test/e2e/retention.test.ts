// Retention end to end (embedded mode; REDIS_URL refuses it): storescu → bridge → FHIR server, the
// study retained after a short period, a re-send writes nothing, a new instance gives the full count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { imagingStudies, published, publishedOnServer, storescu } from './helpers.js';

/** Two seconds, in days. */
const PERIOD_DAYS = String(2 / 86_400);

describe('retention of published studies (embedded store)', () => {
  let fhir: TestFhirServer;
  let bridge: BridgeProcess;
  const studies: GeneratedStudy[] = [];

  beforeAll(async () => {
    fhir = await startFhirServer();
    bridge = await startBridgeProcess({
      env: {
        FHIR_BASE_URL: fhir.baseUrl,
        DICOMWEB_BASE_URL: 'http://127.0.0.1:1/dicom-web',
        PUBLISH_DEBOUNCE_MS: '500',
        PUBLISH_MAX_DELAY_MS: '10000',
        RETENTION_PUBLISHED_DAYS: PERIOD_DAYS,
        RETENTION_INTERVAL_MS: '1000',
      },
    });
  });

  afterAll(async () => {
    expect(await bridge?.stop()).toBe(0);
    bridge?.cleanup();
    await fhir?.close();
    for (const study of studies) removeStudy(study.dir);
  });

  it('keeps what deduplicates a re-send and what a new instance needs for a complete ImagingStudy', async () => {
    const study = await generateStudy({ series: 2, instances: 10, modalities: ['CT', 'PT'], size: 'small' });
    studies.push(study);
    const sent = await storescu(bridge, [study.dir], ['+sd', '+r']);
    expect(sent.code, sent.stderr).toBe(0);
    await published(bridge, study.studyInstanceUid, 20);
    const first = await publishedOnServer(fhir, study.studyInstanceUid, 20);

    // Retained: the copy of the ImagingStudy is cut to what the next publish reads of it.
    const retained = await eventually(
      async () => {
        const { body } = await bridge.get(`/studies/${study.studyInstanceUid}`);
        return body.lastResource && body.lastResource.series === undefined ? body : undefined;
      },
      20_000,
      'the study retained',
    );
    expect(retained).toMatchObject({ publishState: 'published', numberOfSeries: 2, numberOfInstances: 20 });
    expect(Object.keys(retained.lastResource).sort()).toEqual(['endpoint', 'identifier', 'resourceType']);
    expect(bridge.output()).toMatch(/"msg":"retention pass"/);

    // A re-send of the whole study: deduplicated by the instance records kept, nothing written.
    const writes = fhir.writeCount();
    const again = await storescu(bridge, [study.dir], ['+sd', '+r']);
    expect(again.code, again.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(fhir.writeCount()).toBe(writes);
    const afterResend = (await bridge.get(`/studies/${study.studyInstanceUid}`)).body;
    expect(afterResend).toMatchObject({ publishState: 'published', numberOfInstances: 20, lastResource: retained.lastResource });

    // A new instance in a new series: the ImagingStudy is republished whole, 21 instances in 3 series.
    const late = await generateStudy({ studyInstanceUid: study.studyInstanceUid, series: 1, instances: 1, modalities: ['MR'], size: 'small' });
    studies.push(late);
    const lateSent = await storescu(bridge, [late.dir], ['+sd', '+r']);
    expect(lateSent.code, lateSent.stderr).toBe(0);
    await published(bridge, study.studyInstanceUid, 21);
    const resource = await publishedOnServer(fhir, study.studyInstanceUid, 21);
    expect(await imagingStudies(fhir, study.studyInstanceUid)).toHaveLength(1);
    expect(resource.id).toBe(first.id);
    expect(resource.numberOfSeries).toBe(3);
    const uids = resource.series.flatMap((s: any) => s.instance.map((i: any) => i.uid)).sort();
    expect(uids).toEqual([...study.series, ...late.series].flatMap((s) => s.sopInstanceUids).sort());
    expect(resource.series.map((s: any) => s.numberOfInstances).sort()).toEqual([1, 10, 10]);
    expect(resource.modality.map((m: any) => m.code).sort()).toEqual(['CT', 'MR', 'PT']);
    // The bridge's identifiers and Endpoint reference once each, as in the first publish.
    expect(resource.identifier).toEqual(first.identifier);
    expect(resource.endpoint).toEqual(first.endpoint);
  }, 120_000);
});
