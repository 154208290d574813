import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobQueue } from '../pipeline/job-queue.js';
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
  readonly publishLatency = new Histogram({
    name: 'dfb_publish_latency_seconds',
    help: 'From the last instance received to the FHIR server answering 2xx',
    buckets: [0.5, 1, 2, 3, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });
  readonly fhirErrors = new Counter({
    name: 'dfb_fhir_errors_total',
    help: 'FHIR requests that failed, by HTTP status (or "network")',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor(queue: JobQueue, store: StudyStore) {
    collectDefaultMetrics({ register: this.registry, prefix: 'dfb_' });
    new Gauge({
      name: 'dfb_queue_depth',
      help: 'Jobs waiting, by queue',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        const depth = await queue.depth();
        this.set({ queue: 'instances' }, depth.instances);
        this.set({ queue: 'publishes' }, depth.publishes);
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
  }
}
