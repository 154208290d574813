import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobQueue, QueueDepth } from '../pipeline/job-queue.js';
import type { StudyStore } from '../pipeline/study-store.js';

/** The bridge's Prometheus metrics (GET /metrics). */
export class BridgeMetrics {
  readonly registry = new Registry();

  readonly associationsAccepted = new Counter({
    name: 'dfb_associations_accepted_total',
    help: 'DICOM associations accepted',
    registers: [this.registry],
  });
  readonly associationsRejected = new Counter({
    name: 'dfb_associations_rejected_total',
    help: 'DICOM associations rejected, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly instancesReceived = new Counter({
    name: 'dfb_instances_received_total',
    help: 'C-STORE requests received (any status)',
    registers: [this.registry],
  });
  readonly bytesReceived = new Counter({
    name: 'dfb_bytes_received_total',
    help: 'Dataset bytes received by C-STORE',
    registers: [this.registry],
  });
  readonly cStoreStatus = new Counter({
    name: 'dfb_cstore_responses_total',
    help: 'C-STORE responses sent, by status (hex)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  /** Per calling AE: `calling_ae` is a configured peer's AE title or `other` (a bounded label set). */
  readonly callerAssociations = new Counter({
    name: 'dfb_calling_ae_associations_total',
    help: 'DICOM associations by calling AE title (configured peers, else "other") and result (accepted, or the rejection reason)',
    labelNames: ['calling_ae', 'result'] as const,
    registers: [this.registry],
  });
  readonly callerInstances = new Counter({
    name: 'dfb_calling_ae_instances_received_total',
    help: 'C-STORE requests received (any status) by calling AE title (configured peers, else "other")',
    labelNames: ['calling_ae'] as const,
    registers: [this.registry],
  });
  readonly callerRefusals = new Counter({
    name: 'dfb_calling_ae_cstore_refused_total',
    help: 'C-STORE requests refused (failure status, hex) by calling AE title (configured peers, else "other")',
    labelNames: ['calling_ae', 'status'] as const,
    registers: [this.registry],
  });
  readonly publishLatency = new Histogram({
    name: 'dfb_publish_latency_seconds',
    help: 'From the last instance received to the ImagingStudy written: the FHIR server answering 2xx, or the store and built-in endpoint without a FHIR server',
    buckets: [0.5, 1, 2, 3, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });
  readonly fhirErrors = new Counter({
    name: 'dfb_fhir_errors_total',
    help: 'FHIR requests that failed, by HTTP status (or "network")',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor(queue: JobQueue, store: StudyStore, options: { dataDir?: string; now?: () => number } = {}) {
    const now = options.now ?? Date.now;
    collectDefaultMetrics({ register: this.registry, prefix: 'dfb_' });
    // prom-client collects all gauges of a scrape at once: the two below share one depth() (Redis: three round trips).
    let scrapeDepth: Promise<QueueDepth> | undefined;
    const depthOfScrape = (): Promise<QueueDepth> => (scrapeDepth ??= queue.depth().finally(() => (scrapeDepth = undefined)));
    new Gauge({
      name: 'dfb_queue_depth',
      help: 'Jobs waiting, by queue',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        const depth = await depthOfScrape();
        this.set({ queue: 'instances' }, depth.instances);
        this.set({ queue: 'publishes' }, depth.publishes);
      },
    });
    new Gauge({
      name: 'dfb_instance_dead_letters',
      help: 'Distributed mode: instance records moved to the dead-letter stream after failing too many deliveries, kept for an operator (0 in embedded mode)',
      registers: [this.registry],
      async collect() {
        this.set((await depthOfScrape()).deadLetters ?? 0);
      },
    });
    new Gauge({
      name: 'dfb_studies',
      help: 'Studies by publish state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await store.countByState();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'dfb_oldest_pending_study_age_seconds',
      help: 'Time since the last instance of the oldest study still waiting to be published (0: none pending)',
      registers: [this.registry],
      async collect() {
        const [oldest] = await store.listSummaries({ state: 'pending', oldestFirst: true, limit: 1 });
        this.set(oldest ? Math.max(0, now() - Date.parse(oldest.lastReceivedAt)) / 1000 : 0);
      },
    });
    const dataDir = options.dataDir;
    if (dataDir !== undefined) {
      new Gauge({
        name: 'dfb_store_size_bytes',
        help: 'Embedded mode: bytes on disk of the SQLite files in DATA_DIR (database, WAL and shared memory), by store',
        labelNames: ['store'] as const,
        registers: [this.registry],
        collect() {
          for (const [store, file] of [['pipeline', 'bridge.sqlite'], ['fhir-index', 'fhir-index.sqlite']] as const) {
            const bytes = [file, `${file}-wal`, `${file}-shm`].reduce((n, f) => n + sizeOf(join(dataDir, f)), 0);
            this.set({ store }, bytes);
          }
        },
      });
    }
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // not there (e.g. no built-in endpoint)
  }
}
