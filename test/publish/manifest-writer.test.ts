/**
 * The manifest writer through the publisher, against the real FHIR server
 * (Medplum, in this process): the Bundle and the DocumentReference are
 * written after the ImagingStudy, keyed on the manifest OID; an unchanged
 * study writes nothing; a 503 on the manifest leaves the study pending (the
 * queue retries), a 400 fails it with the server's text. Faults on one
 * resource type only are injected in fetch (the server's switches act on
 * every write).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { FhirClient, FhirHttpError } from '../../src/fhir-client/fhir-client.js';
import { manifestUid } from '../../src/fhir/mado/manifest-uid.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import { manifestSettings } from '../../src/publish/manifest-writer.js';
import { Publisher } from '../../src/publish/publisher.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { makeRecord, silentLogger, tempDir } from '../pipeline/helpers.js';

const mappingOptions: MappingOptions = {
  fhirVersion: 'R4',
  patientIdentifier: { defaultSystem: 'urn:dicom-fhir-bridge:patient-id', issuerSystems: {} },
  timezone: 'UTC',
  basedOn: 'off',
};
const STUDY = '1.2.826.0.1.3680043.8.498.16';
const settings = manifestSettings(loadConfig({ env: { FHIR_MANIFEST: 'mado', DICOMWEB_BASE_URL: 'https://pacs.example/dicom-web' } }))!;
const token = encodeURIComponent(`urn:dicom:uid|urn:oid:${manifestUid(STUDY)}`);

let server: TestFhirServer;
const opened: { pipeline: Pipeline; remove: () => Promise<void> }[] = [];

beforeAll(async () => {
  server = await startFhirServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => server.reset());
afterEach(async () => {
  for (const { pipeline, remove } of opened.splice(0)) {
    await pipeline.close();
    await remove();
  }
});

async function openPipeline(): Promise<Pipeline> {
  const temp = await tempDir();
  const pipeline = openSqlitePipeline({ dataDir: temp.dir, logger: silentLogger });
  opened.push({ pipeline, remove: temp.remove });
  return pipeline;
}

/** fetch that answers `status` to PUTs of `type` while `fault.on`. */
function faultyFetch(type: string, status: number, fault: { on: boolean }): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    if (fault.on && init?.method === 'PUT' && new RegExp(`/${type}(/|$)`).test(url.pathname)) {
      const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: `${type} refused by test` }] };
      return new Response(JSON.stringify(outcome), { status, headers: { 'Content-Type': 'application/fhir+json' } });
    }
    return fetch(input, init);
  };
}

function publisher(pipeline: Pipeline, fetchImpl?: typeof fetch): Publisher {
  return new Publisher({
    queue: pipeline.queue,
    store: pipeline.store,
    client: new FhirClient({ baseUrl: server.baseUrl, timeoutMs: 10_000, ...(fetchImpl ? { fetch: fetchImpl } : {}) }),
    mappingOptionsFor: () => mappingOptions,
    manifest: settings,
    logger: silentLogger,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
}

const records = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) =>
    makeRecord({ study: STUDY, series: `${STUDY}.${(from + k) % 2}`, seriesNumber: (from + k) % 2, sop: `${STUDY}.9.${from + k}`, instanceNumber: from + k, patientId: 'P1' }),
  );

const found = async (type: string): Promise<any[]> => ((await server.search(`${type}?identifier=${token}`)).entry ?? []).map((e: any) => e.resource);

describe('manifest writer', () => {
  it('writes the Bundle and the DocumentReference after the ImagingStudy; an unchanged study writes nothing; a change updates both', async () => {
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(0, 3));
    const p = publisher(pipeline);
    await p.publish(STUDY);
    const puts = server.requests.filter((r) => r.method === 'PUT').map((r) => r.url.split('?')[0]!.split('/').slice(3).join('/'));
    expect(puts).toEqual(['ImagingStudy', 'Bundle', 'DocumentReference']);
    const [bundle] = await found('Bundle');
    const [docRef] = await found('DocumentReference');
    expect(docRef.content[0].attachment.url).toBe(`${server.baseUrl}/Bundle/${bundle.id}`);
    const summary = await pipeline.store.getSummary(STUDY);
    expect(docRef.context.related[0].reference).toBe(`ImagingStudy/${summary?.publish.resourceId}`);

    await pipeline.store.republish(STUDY);
    await p.publish(STUDY);
    expect([server.writeCount('Bundle'), server.writeCount('DocumentReference')]).toEqual([1, 1]);

    // A new MR series received later: a new manifest (time, series) and a new envelope (modality, time).
    await pipeline.store.mergeInstances([
      makeRecord({ study: STUDY, series: `${STUDY}.5`, seriesNumber: 5, modality: 'MR', sop: `${STUDY}.9.5`, instanceNumber: 1, patientId: 'P1', receivedAt: '2024-01-15T11:00:00.000Z' }),
    ]);
    await p.publish(STUDY);
    expect([server.writeCount('Bundle'), server.writeCount('DocumentReference')]).toEqual([2, 2]);
    const [updated] = await found('Bundle');
    expect(updated.id).toBe(bundle.id);
    expect(updated.timestamp).toBe('2024-01-15T11:00:00.000Z');
    expect(updated.entry.find((e: any) => e.resource.resourceType === 'ImagingStudy').resource.numberOfInstances).toBe(4);
    const docs = await found('DocumentReference');
    expect(docs).toHaveLength(1);
    expect(docs[0].id).toBe(docRef.id);
    expect(docs[0].date).toBe('2024-01-15T11:00:00.000Z');
  });

  it('a 503 on the manifest Bundle leaves the study pending; the next attempt writes it', async () => {
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(0, 2));
    const fault = { on: true };
    const p = publisher(pipeline, faultyFetch('Bundle', 503, fault));
    const err = await p.publish(STUDY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirHttpError);
    expect((err as FhirHttpError).status).toBe(503);
    expect((await pipeline.store.getSummary(STUDY))?.publish).toMatchObject({ state: 'pending', lastError: expect.stringContaining('503') });
    expect(await found('Bundle')).toEqual([]);

    fault.on = false;
    await p.publish(STUDY);
    expect((await pipeline.store.getSummary(STUDY))?.publish.state).toBe('published');
    expect(await found('Bundle')).toHaveLength(1);
    expect(await found('DocumentReference')).toHaveLength(1);
  });

  it('a 400 on the DocumentReference fails the study with the server text', async () => {
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(0, 2));
    await publisher(pipeline, faultyFetch('DocumentReference', 400, { on: true })).publish(STUDY);
    expect((await pipeline.store.getSummary(STUDY))?.publish).toMatchObject({ state: 'failed', lastError: expect.stringContaining('DocumentReference refused by test') });
  });
});
