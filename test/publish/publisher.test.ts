import type { ImagingStudyResource } from '../../src/fhir/map-imaging-study.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FhirClient, FhirHttpError } from '../../src/fhir-client/fhir-client.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import { Aggregator } from '../../src/pipeline/aggregator.js';
import { NO_SERVER_NOTE, Publisher, type PublisherOptions } from '../../src/publish/publisher.js';
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
const STUDY = '1.2.826.0.1.3680043.8.498.1';
const ISSUE = `ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${STUDY}`)}`;

let server: TestFhirServer;
let pipeline: Pipeline;
let remove: () => Promise<void>;

beforeAll(async () => {
  server = await startFhirServer();
});

afterAll(async () => {
  await server?.close();
});

beforeEach(async () => {
  server.reset();
  const temp = await tempDir();
  remove = temp.remove;
  pipeline = openSqlitePipeline({ dataDir: temp.dir, logger: silentLogger });
});

afterEach(async () => {
  await pipeline.close();
  await remove();
});

function publisher(options: Partial<PublisherOptions> = {}): Publisher {
  return new Publisher({
    queue: pipeline.queue,
    store: pipeline.store,
    client: new FhirClient({ baseUrl: server.baseUrl, timeoutMs: 10_000 }),
    mappingOptionsFor: () => mappingOptions,
    logger: silentLogger,
    retryDelayMs: () => 10,
    ...options,
  });
}

const records = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) =>
    makeRecord({ study: STUDY, series: `${STUDY}.${(from + k) % 2}`, seriesNumber: (from + k) % 2, sop: `${STUDY}.9.${from + k}`, instanceNumber: from + k }),
  );

describe('Publisher with a real FHIR server (Medplum)', () => {
  it('publishes a study by conditional update, republishes a change into the same resource, ignores a pure re-send', async () => {
    const { queue, store } = pipeline;
    new Aggregator({ queue, store, schedule: { debounceMs: 0, maxDelayMs: 0 }, logger: silentLogger }).start();
    publisher().start();

    await Promise.all(records(0, 5).map((r) => queue.addInstance(r)));
    await vi.waitFor(async () => expect((await store.getSummary(STUDY))?.publish.state).toBe('published'), { timeout: 10_000 });
    let bundle = await server.search(ISSUE);
    expect(bundle.entry).toHaveLength(1);
    expect(bundle.entry[0].resource).toMatchObject({ resourceType: 'ImagingStudy', numberOfSeries: 2, numberOfInstances: 5 });
    const summary = await store.getSummary(STUDY);
    expect(summary?.publish).toMatchObject({ resourceId: bundle.entry[0].resource.id, attempts: 1 });
    expect(summary?.publish.lastResource).toMatchObject({ resourceType: 'ImagingStudy', numberOfInstances: 5 });
    const put = server.requests.find((r) => r.method === 'PUT')!;
    expect(put.url).toBe(`/fhir/R4/${ISSUE}`);
    expect((put.body as { id?: string }).id).toBeUndefined();

    await queue.addInstance(records(5, 6)[0]!);
    await vi.waitFor(async () => expect((await server.search(ISSUE)).entry[0].resource.numberOfInstances).toBe(6), { timeout: 10_000 });
    bundle = await server.search(ISSUE);
    expect(bundle.entry).toHaveLength(1);
    await vi.waitFor(async () => expect((await store.getSummary(STUDY))?.publish.state).toBe('published'));
    const writes = server.writeCount('ImagingStudy');

    // A pure re-send: merged, no publish scheduled, no write.
    await queue.addInstance(records(2, 3)[0]!);
    await vi.waitFor(async () => expect((await queue.depth()).instances).toBe(0));
    expect(await queue.depth()).toEqual({ instances: 0, publishes: 0 });
    expect(server.writeCount('ImagingStudy')).toBe(writes);
  });

  it('a 400 marks the study failed with the OperationOutcome text, without rethrowing', async () => {
    await pipeline.store.mergeInstances(records(0, 2));
    // Deliberately invalid (the types refuse it): the server's 400 is what this test is about.
    const invalidStudy = { resourceType: 'ImagingStudy', status: 'no-such-status', subject: { display: 'x' } } as unknown as ImagingStudyResource;
    const invalid = publisher({ map: () => invalidStudy });
    await expect(invalid.publish(STUDY)).resolves.toBeUndefined();
    const summary = await pipeline.store.getSummary(STUDY);
    expect(summary?.publish.state).toBe('failed');
    expect(summary?.publish.lastError).toMatch(/status/);
    expect(summary?.publish.lastError).not.toMatch(/^PUT /);
    expect(server.writeCount('ImagingStudy')).toBe(0);
  });

  it('a 503 leaves the study pending with the error, and the queue retries until it is published', async () => {
    const { queue, store } = pipeline;
    await store.mergeInstances(records(0, 3));
    server.faults.failNextWrites = { count: 2, status: 503 };
    const p = publisher();
    const err = await p.publish(STUDY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirHttpError);
    expect(await store.getSummary(STUDY)).toMatchObject({ publish: { state: 'pending', attempts: 1, lastError: expect.stringContaining('503') } });

    p.start();
    await queue.schedulePublish(STUDY, { debounceMs: 0, maxDelayMs: 0 });
    await vi.waitFor(async () => expect((await store.getSummary(STUDY))?.publish.state).toBe('published'), { timeout: 10_000 });
    expect(server.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([503, 503, 201]);
    expect(await store.getSummary(STUDY)).toMatchObject({ publish: { attempts: 3 } });
    expect((await store.getSummary(STUDY))?.publish.lastError).toBeUndefined();
    await vi.waitFor(async () => expect((await queue.depth()).publishes).toBe(0));
  });
});

describe('Publisher without a FHIR server or with a broken mapping', () => {
  it('keeps the generated resource and marks the study published with a note', async () => {
    await pipeline.store.mergeInstances(records(0, 2));
    await publisher({ client: undefined }).publish(STUDY);
    const summary = await pipeline.store.getSummary(STUDY);
    expect(summary?.publish).toMatchObject({ state: 'published', note: NO_SERVER_NOTE });
    expect(summary?.publish.lastResource).toMatchObject({ resourceType: 'ImagingStudy', numberOfInstances: 2 });
    expect(server.requests).toHaveLength(0);
  });

  it('a mapping that throws marks the study failed', async () => {
    await pipeline.store.mergeInstances(records(0, 1));
    await publisher({
      map: () => {
        throw new Error('no series');
      },
    }).publish(STUDY);
    expect((await pipeline.store.getSummary(STUDY))?.publish).toMatchObject({ state: 'failed', lastError: 'mapping failed: no series' });
  });

  it('stays pending when instances were merged while the publish ran', async () => {
    const { store } = pipeline;
    await store.mergeInstances(records(0, 1));
    const p = publisher({
      map: (state) => {
        // Simulates the aggregator merging a new instance while the PUT is under way.
        void store.mergeInstances(records(1, 2));
        return { resourceType: 'ImagingStudy', status: 'available', subject: { display: 'x' }, numberOfInstances: state.series[0]!.instances.length };
      },
    });
    await p.publish(STUDY);
    expect((await store.getSummary(STUDY))?.publish).toMatchObject({ state: 'pending', attempts: 0 });
    expect(server.writeCount('ImagingStudy')).toBe(1);
  });
});
