/**
 * The built-in endpoint's SQLite index as the bridge runs it: every
 * SqliteResourceIndex statement runs in a worker thread of its own
 * (sqlite-index-worker.ts), so a disk that stops answering during a put
 * blocks that thread, never the event loop (health, C-ECHO, the SCP).
 *
 * Its own thread, not the database worker's (which holds bridge.sqlite):
 * the two files are separate databases, a FHIR search (up to the search
 * limits) or the put of a large study then never delays the commit a
 * C-STORE waits for, and the database worker (pipeline/) does not have to
 * know the endpoint (fhir-endpoint/ imports pipeline/, not the reverse).
 * What the two share is the machinery, in pipeline/sqlite/: worker-host.ts
 * (the thread's side), worker-client.ts (deadlines, stall), worker-script.ts.
 *
 * Every call has a deadline (STORAGE_COMMIT_TIMEOUT_MS): one not answered in
 * time rejects with StorageStalledError naming fhir-index.sqlite, and while
 * one is outstanding that long the index counts as stalled and later calls
 * are refused at once, until the stuck one returns. The endpoint answers
 * those 503 (handler.ts); the publisher leaves the study pending and
 * retries the publish (publisher.ts, LocalIndexFailed). A put refused or
 * not begun by its deadline is not run; one under way when the disk froze
 * completes after the thaw, before any later call (the worker keeps the order).
 * The stall is logged and shown in /status (`fhirIndex`, condition()), not
 * in /readyz: C-STOREs are still stored (http/server.ts).
 *
 * Reads and search pages cross as the resources' stored JSON texts, parsed
 * here: a string is cloned at memory speed, while the structured clone of
 * the parsed objects (serialised in the worker, rebuilt here) cost
 * 1.1–1.7 ms more per page of 50 than parsing their texts (README, FHIR
 * endpoint search).
 */
import type { Logger } from 'pino';
import type { StorageCondition } from '../pipeline/pipeline.js';
import { StorageStalledError } from '../pipeline/sqlite/storage-health.js';
import { WorkerClient } from '../pipeline/sqlite/worker-client.js';
import { workerScript } from '../pipeline/sqlite/worker-script.js';
import type { FhirResource, ParsedSearch, ResourceIndex, ResourceIndexOptions, SearchResult } from './resource-index.js';
import type { JsonSearchResult, SqliteResourceIndex } from './sqlite-resource-index.js';

export const INDEX_FILE = 'fhir-index.sqlite';

/** What the index worker opens: `<dataDir>/fhir-index.sqlite` for these resources. */
export interface IndexWorkerSettings extends ResourceIndexOptions {
  dataDir: string;
}

/**
 * The index's side of /status (`fhirIndex`), in the shape of the store's
 * `storage`: stalled while a call has been unanswered for
 * STORAGE_COMMIT_TIMEOUT_MS (the disk does not answer), ok again when one returns.
 */
export type FhirIndexCondition = Omit<StorageCondition, 'state'> & { state: 'ok' | 'stalled' };

export interface RemoteResourceIndexOptions extends IndexWorkerSettings {
  /** STORAGE_COMMIT_TIMEOUT_MS: each call's deadline, and how long one may be outstanding before the index counts as stalled. */
  timeoutMs: number;
  logger: Logger;
}

export class RemoteResourceIndex implements ResourceIndex {
  private readonly client: WorkerClient<'index'>;
  private readonly timeoutMs: number;
  /** Resolves when the worker has the index open; rejects (the bridge does not start) if it could not. */
  readonly ready: Promise<void>;

  constructor(options: RemoteResourceIndexOptions) {
    const { timeoutMs, logger, ...settings } = options;
    this.timeoutMs = timeoutMs;
    this.client = new WorkerClient<'index'>({
      name: 'the FHIR index worker',
      script: workerScript(import.meta.url, 'sqlite-index-worker'),
      settings: settings satisfies IndexWorkerSettings,
      stallTimeoutMs: timeoutMs,
      stalledError: () => new StorageStalledError(timeoutMs, INDEX_FILE),
      logger,
    });
    this.ready = this.client.ready;
    this.client.watch({
      stalled: (ms) => logger.warn({ file: INDEX_FILE, timeoutMs: ms }, 'FHIR index stalled: a call is unanswered; the endpoint answers 503, publishes are retried'),
      progressed: (stalledSince) => logger.info({ file: INDEX_FILE, stalledSince }, 'FHIR index answers again after a stall'),
    });
  }

  /** From the worker client's stall (the one place that knows it). */
  condition(): FhirIndexCondition {
    const since = this.client.stallStart();
    if (since === undefined) return { state: 'ok' };
    const reason = `no call to ${INDEX_FILE} returned within ${this.timeoutMs} ms (STORAGE_COMMIT_TIMEOUT_MS): the disk under DATA_DIR does not answer`;
    return { state: 'stalled', since, reason };
  }

  private call<T>(method: keyof SqliteResourceIndex, ...args: unknown[]): Promise<T> {
    return this.client.call<T>('index', method, args, { timeoutMs: this.timeoutMs });
  }

  put(resources: FhirResource[]): Promise<void> {
    return this.call('put', resources);
  }

  remove(resourceType: string, id: string): Promise<void> {
    return this.call('remove', resourceType, id);
  }

  async read(resourceType: string, id: string): Promise<FhirResource | undefined> {
    const json = await this.call<string | undefined>('readJson', resourceType, id);
    return json === undefined ? undefined : (JSON.parse(json) as FhirResource);
  }

  async search(resourceType: string, query: ParsedSearch): Promise<SearchResult> {
    const { total, json } = await this.call<JsonSearchResult>('searchJson', resourceType, query);
    return { total, resources: json.map((text) => JSON.parse(text) as FhirResource) };
  }

  /** After the calls already sent (a put under way on a frozen disk: after the thaw). */
  close(): Promise<void> {
    return this.client.close();
  }
}
