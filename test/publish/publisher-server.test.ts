/**
 * The publisher against a real FHIR server (Medplum, in this process) with
 * fault switches: retries, failures, others' edits kept, If-Match races,
 * client-assigned ids, Patient strategies and the Endpoint.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FhirClient, FhirHttpError } from '../../src/fhir-client/fhir-client.js';
import type { MappingOptions } from '../../src/fhir/mapping-options.js';
import { Publisher, type PublisherOptions } from '../../src/publish/publisher.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { deferred, makeRecord, silentLogger, tempDir } from '../pipeline/helpers.js';

const mappingOptions: MappingOptions = {
  fhirVersion: 'R4',
  patientIdentifier: { defaultSystem: 'urn:dicom-fhir-bridge:patient-id', issuerSystems: {} },
  timezone: 'UTC',
  basedOn: 'off',
};
const PATIENT_SYSTEM = 'urn:dicom-fhir-bridge:patient-id';
const STUDY = '1.2.826.0.1.3680043.8.498.7';
const byIdentifier = (uid: string) => `ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${uid}`)}`;

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

function publisher(pipeline: Pipeline, options: Partial<PublisherOptions> = {}, fetchImpl?: typeof fetch): Publisher {
  return new Publisher({
    queue: pipeline.queue,
    store: pipeline.store,
    client: new FhirClient({ baseUrl: server.baseUrl, timeoutMs: 10_000, ...(fetchImpl ? { fetch: fetchImpl } : {}) }),
    mappingOptionsFor: () => mappingOptions,
    logger: silentLogger,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    ...options,
  });
}

const records = (uid: string, from: number, to: number, patientId = 'P1') =>
  Array.from({ length: to - from }, (_, k) =>
    makeRecord({ study: uid, series: `${uid}.${(from + k) % 2}`, seriesNumber: (from + k) % 2, sop: `${uid}.9.${from + k}`, instanceNumber: from + k, patientId }),
  );

async function studiesOf(uid: string): Promise<any[]> {
  return ((await server.search(byIdentifier(uid))).entry ?? []).map((e: any) => e.resource);
}

function capture(): { logger: pino.Logger; lines: () => any[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines: () => out.map((l) => JSON.parse(l)) };
}

describe('retries and failures', () => {
  it('429 with Retry-After (seconds or HTTP date) and 503 leave the study pending; the queue publishes it once the server takes it', async () => {
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(STUDY, 0, 3));
    const p = publisher(pipeline);

    server.faults.failNextWrites = { count: 1, status: 429, retryAfterSeconds: 1 };
    const first = await p.publish(STUDY).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(FhirHttpError);
    expect((first as FhirHttpError).retryAfterMs).toBe(1000);
    expect((await pipeline.store.getSummary(STUDY))?.publish).toMatchObject({ state: 'pending', lastError: expect.stringContaining('429') });

    server.faults.failNextWrites = { count: 1, status: 429, retryAfter: new Date(Date.now() + 60_000).toUTCString() };
    const second = (await p.publish(STUDY).catch((e: unknown) => e)) as FhirHttpError;
    expect(second.retryAfterMs).toBeGreaterThan(50_000);

    server.faults.failNextWrites = { count: 2, status: 503 };
    p.start();
    await pipeline.queue.schedulePublish(STUDY, { debounceMs: 0, maxDelayMs: 0 });
    await vi.waitFor(async () => expect((await pipeline.store.getSummary(STUDY))?.publish.state).toBe('published'), { timeout: 15_000 });
    expect(server.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([429, 429, 503, 503, 201]);
    expect(await studiesOf(STUDY)).toHaveLength(1);
  });

  it('a 400 fails the study with the OperationOutcome text; it is listed as failed and a republish after the fix publishes it', async () => {
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(STUDY, 0, 2));
    server.faults.rejectStudyUids = [STUDY];
    const p = publisher(pipeline);
    await expect(p.publish(STUDY)).resolves.toBeUndefined();
    const failed = await pipeline.store.listSummaries({ state: 'failed' });
    expect(failed.map((s) => [s.studyInstanceUid, s.publish.lastError])).toEqual([[STUDY, 'injected rejection: this study is refused']]);

    server.faults.rejectStudyUids = [];
    await p.publish(STUDY);
    expect((await pipeline.store.getSummary(STUDY))?.publish.state).toBe('published');
  });
});

describe("others' edits are kept", () => {
  it('a note written by another client survives a republish; counts are updated; the PUT carries If-Match of the version read', async () => {
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(STUDY, 0, 2));
    const p = publisher(pipeline);
    await p.publish(STUDY);
    const [created] = await studiesOf(STUDY);

    const edited = await server.request('PUT', `ImagingStudy/${created.id}`, {
      ...created,
      note: [{ text: 'Compare with priors (radiologist)' }],
      meta: { tag: [{ system: 'urn:site', code: 'reviewed' }] },
    });
    expect(edited.status).toBe(200);

    await pipeline.store.mergeInstances(records(STUDY, 2, 5));
    await p.publish(STUDY);
    const [after, ...others] = await studiesOf(STUDY);
    expect(others).toHaveLength(0);
    expect(after.id).toBe(created.id);
    expect(after.note).toEqual([{ text: 'Compare with priors (radiologist)' }]);
    expect(after.meta.tag).toEqual([{ system: 'urn:site', code: 'reviewed' }]);
    expect(after.numberOfInstances).toBe(5);
    const put = server.requests.filter((r) => r.method === 'PUT').at(-1)!;
    expect(put.url).toBe(`/fhir/R4/ImagingStudy/${created.id}`);
    expect(put.headers['if-match']).toBe(`W/"${edited.body.meta.versionId}"`);
  });

  it('a republish that changes nothing writes nothing', async () => {
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(STUDY, 0, 2));
    const p = publisher(pipeline);
    await p.publish(STUDY);
    const writes = server.writeCount();
    await p.publish(STUDY);
    expect(server.writeCount()).toBe(writes);
    expect((await pipeline.store.getSummary(STUDY))?.publish.state).toBe('published');
  });

  it('two publishers of one study (two stores) racing converge to one correct resource through a 412', async () => {
    const a = await openPipeline();
    const b = await openPipeline();
    for (const pl of [a, b]) await pl.store.mergeInstances(records(STUDY, 0, 2));
    await publisher(a).publish(STUDY);
    const [created] = await studiesOf(STUDY);
    // B publishes the first version too, so both know the resource id.
    await publisher(b).publish(STUDY);
    for (const pl of [a, b]) await pl.store.mergeInstances(records(STUDY, 2, 6));

    // A reads, then waits before its PUT until B has written: A's If-Match is then stale.
    const aAtPut = deferred();
    const release = deferred();
    let held = false;
    const holdingFetch: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT' && !held) {
        held = true;
        aAtPut.resolve();
        await release.promise;
      }
      return fetch(input, init);
    };
    const aDone = publisher(a, {}, holdingFetch).publish(STUDY);
    await aAtPut.promise;
    await publisher(b).publish(STUDY);
    release.resolve();
    await aDone;

    const puts = server.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.status)).toContain(412);
    const [final, ...others] = await studiesOf(STUDY);
    expect(others).toHaveLength(0);
    expect(final.id).toBe(created.id);
    expect(final.numberOfInstances).toBe(6);
    for (const pl of [a, b]) expect((await pl.store.getSummary(STUDY))?.publish.state).toBe('published');
  });
});

describe('knowing the server', () => {
  it('without conditional update in /metadata, writes ImagingStudy/<Study UID> (client-assigned id), then updates it with If-Match', async () => {
    server.faults.noConditionalUpdate = true;
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(STUDY, 0, 2));
    const p = publisher(pipeline);
    p.start();
    await p.publish(STUDY);
    await pipeline.store.mergeInstances(records(STUDY, 2, 3));
    await p.publish(STUDY);
    const puts = server.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.url)).toEqual([`/fhir/R4/ImagingStudy/${STUDY}`, `/fhir/R4/ImagingStudy/${STUDY}`]);
    expect(puts[1]!.headers['if-match']).toMatch(/^W\/"/);
    const read = await server.request('GET', `ImagingStudy/${STUDY}`);
    expect(read.body.numberOfInstances).toBe(3);
  });

  it('warns when the server speaks another FHIR version than FHIR_VERSION', async () => {
    server.faults.metadataFhirVersion = '5.0.0';
    const pipeline = await openPipeline();
    const { logger, lines } = capture();
    publisher(pipeline, { logger, fhirVersion: 'R4' }).start();
    await vi.waitFor(() => expect(lines().some((l) => l.level === 40 && l.serverFhirVersion === '5.0.0')).toBe(true));
  });

  it('a server whose /metadata fails does not block: publishes go on with conditional update', async () => {
    server.faults.metadataStatus = 503;
    const pipeline = await openPipeline();
    await pipeline.store.mergeInstances(records(STUDY, 0, 1));
    const { logger, lines } = capture();
    const p = publisher(pipeline, { logger });
    p.start();
    await vi.waitFor(async () => expect((await pipeline.store.getSummary(STUDY))?.publish.state).toBe('pending'));
    await p.publish(STUDY);
    expect((await pipeline.store.getSummary(STUDY))?.publish.state).toBe('published');
    expect(server.requests.find((r) => r.method === 'PUT')!.url).toBe(`/fhir/R4/${byIdentifier(STUDY)}`);
    expect(lines().some((l) => /metadata not read/.test(l.msg))).toBe(true);
  });
});

describe('Patient strategies', () => {
  const patient = (id: string, value: string) => ({
    resourceType: 'Patient',
    id,
    identifier: [{ system: PATIENT_SYSTEM, value }],
  });

  it('lookup: no match gives the logical reference, one match a literal reference, two matches fail the study', async () => {
    const pipeline = await openPipeline();
    const p = publisher(pipeline, { patientStrategy: 'lookup' });
    const [none, one, two] = ['1.2.3.100', '1.2.3.101', '1.2.3.102'];
    await pipeline.store.mergeInstances([...records(none!, 0, 1, 'P-NONE'), ...records(one!, 0, 1, 'P-ONE'), ...records(two!, 0, 1, 'P-TWO')]);
    await server.request('PUT', 'Patient/one', patient('one', 'P-ONE'));
    await server.request('PUT', 'Patient/two-a', patient('two-a', 'P-TWO'));
    await server.request('PUT', 'Patient/two-b', patient('two-b', 'P-TWO'));

    await p.publish(none!);
    await p.publish(one!);
    await p.publish(two!);
    expect((await studiesOf(none!))[0].subject).toMatchObject({ type: 'Patient', identifier: { system: PATIENT_SYSTEM, value: 'P-NONE' } });
    expect((await studiesOf(one!))[0].subject.reference).toBe('Patient/one');
    expect(await studiesOf(two!)).toHaveLength(0);
    expect((await pipeline.store.getSummary(two!))?.publish).toMatchObject({
      state: 'failed',
      lastError: `2 Patients match identifier ${PATIENT_SYSTEM}|P-TWO`,
    });
  });

  it('create: one transaction per publish; the Patient is created once for two studies of one patient and referenced by both', async () => {
    const pipeline = await openPipeline();
    const p = publisher(pipeline, { patientStrategy: 'create' });
    const [s1, s2] = ['1.2.3.200', '1.2.3.201'];
    await pipeline.store.mergeInstances([...records(s1!, 0, 2, 'P-NEW'), ...records(s2!, 0, 1, 'P-NEW')]);
    await p.publish(s1!);
    await p.publish(s2!);
    await pipeline.store.mergeInstances(records(s1!, 2, 3, 'P-NEW'));
    await p.publish(s1!);

    const writes = server.requests.filter((r) => r.method !== 'GET');
    expect(writes.map((r) => [r.method, r.url, (r.body as any)?.type])).toEqual(Array(3).fill(['POST', '/fhir/R4', 'transaction']));
    const patients = (await server.search(`Patient?identifier=${encodeURIComponent(`${PATIENT_SYSTEM}|P-NEW`)}`)).entry ?? [];
    expect(patients).toHaveLength(1);
    const created = patients[0].resource;
    expect(created).toMatchObject({ gender: 'female', name: [{ family: 'Doe', given: ['Jane'] }] });
    for (const uid of [s1!, s2!]) {
      const found = await studiesOf(uid);
      expect(found).toHaveLength(1);
      expect(found[0].subject.reference).toBe(`Patient/${created.id}`);
    }
    expect((await studiesOf(s1!))[0].numberOfInstances).toBe(3);
  });
});

describe('Endpoint', () => {
  it('is created once (conditional create) and referenced from every ImagingStudy, also by a second publisher process', async () => {
    const pipeline = await openPipeline();
    const uids = ['1.2.3.300', '1.2.3.301', '1.2.3.302'];
    await pipeline.store.mergeInstances(uids.flatMap((u) => records(u, 0, 1)));
    const dicomWebBaseUrl = 'https://pacs.example.org/dicom-web/';
    const p = publisher(pipeline, { dicomWebBaseUrl });
    await Promise.all(uids.map((u) => p.publish(u)));
    await publisher(pipeline, { dicomWebBaseUrl }).publish(uids[0]!);

    const posts = server.requests.filter((r) => r.method === 'POST' && r.url === '/fhir/R4/Endpoint');
    expect(posts).toHaveLength(2); // one per Publisher (process); the second finds the first's
    expect(posts[0]!.headers['if-none-exist']).toBe(`identifier=${encodeURIComponent('urn:ietf:rfc:3986|https://pacs.example.org/dicom-web')}`);
    const endpoints = (await server.search('Endpoint')).entry ?? [];
    expect(endpoints).toHaveLength(1);
    const id = endpoints[0].resource.id;
    for (const u of uids) expect((await studiesOf(u))[0].endpoint).toEqual([{ reference: `Endpoint/${id}` }]);
  });
});
