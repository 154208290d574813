import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { BridgeConfig } from './config/schema.js';
import { StorageScp } from './dimse/scp.js';
import { FhirClient } from './fhir/client/fhir-client.js';
import { createHttpServer } from './http/server.js';
import { Aggregator } from './pipeline/aggregator.js';
import { mappingOptionsFor } from './pipeline/mapping-options-for.js';
import { Publisher } from './pipeline/publisher.js';
import { openSqlitePipeline } from './pipeline/sqlite/index.js';

export interface RunningBridge {
  dicomPort: number;
  httpPort: number;
  /** Graceful stop: no new associations, running ones get `graceMs`, queues drained of running work, stores closed. */
  stop(graceMs?: number): Promise<void>;
}

/** Composition root: wires configuration to the SCP, the pipeline and the HTTP endpoints. */
export async function startBridge(config: BridgeConfig, logger: Logger): Promise<RunningBridge> {
  if (config.redisUrl) {
    throw new Error('REDIS_URL is set, but the distributed mode is not built yet: unset it to run embedded');
  }
  if (config.dicom.allowedCallers.length === 0) {
    logger.warn('dicom.allowedCallers (DICOM_ALLOWED_CALLERS) is empty: any calling AE title is accepted');
  }
  if (!config.fhir.baseUrl) {
    logger.warn(
      'fhir.baseUrl (FHIR_BASE_URL) is unset: ImagingStudy resources are generated and kept in the store, not sent anywhere',
    );
  }

  const pipeline = openSqlitePipeline({ dataDir: config.dataDir, logger });
  const { queue, store } = pipeline;
  const client = config.fhir.baseUrl
    ? new FhirClient({ baseUrl: config.fhir.baseUrl, timeoutMs: config.fhir.requestTimeoutMs })
    : undefined;

  new Aggregator({
    queue,
    store,
    schedule: { debounceMs: config.pipeline.debounceMs, maxDelayMs: config.pipeline.maxDelayMs },
    logger,
  }).start();
  new Publisher({ queue, store, client, mappingOptionsFor: mappingOptionsFor(config, logger), logger }).start();

  const allowed = new Set(config.dicom.allowedCallers);
  const scp = new StorageScp({
    host: config.dicom.host,
    port: config.dicom.port,
    aeTitles: config.dicom.aeTitles,
    isCallerAllowed: allowed.size === 0 ? undefined : (callingAeTitle) => allowed.has(callingAeTitle),
    maxAssociations: config.dicom.maxAssociations,
    maxPduLength: config.dicom.maxPduLength,
    headerCapBytes: config.dicom.headerCapBytes,
    artimTimeoutMs: config.dicom.artimTimeoutMs,
    idleTimeoutMs: config.dicom.idleTimeoutMs,
    transferSyntaxPreference:
      config.dicom.transferSyntaxPreference.length > 0 ? config.dicom.transferSyntaxPreference : undefined,
    logger,
    // Success goes out only after the record is committed (the queue resolves after its transaction).
    onStore: (record) => queue.addInstance(record),
  });

  let storeOpen = true;
  const http: Server = createHttpServer({
    store,
    isReady: () => storeOpen && scp.listening,
    logger,
    fhirTarget: config.fhir.baseUrl,
  });
  http.listen(config.http.port, config.http.host);
  await once(http, 'listening');
  const httpPort = (http.address() as AddressInfo).port;
  const { port: dicomPort } = await scp.listen();
  logger.info(
    {
      dicomHost: config.dicom.host,
      dicomPort,
      aeTitles: config.dicom.aeTitles,
      httpHost: config.http.host,
      httpPort,
      fhirVersion: config.fhir.version,
      fhirBaseUrl: config.fhir.baseUrl ?? null,
      dataDir: config.dataDir,
    },
    'dicom-fhir-bridge started',
  );

  let stopping: Promise<void> | undefined;
  return {
    dicomPort,
    httpPort,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        await scp.close({ graceMs });
        await pipeline.close();
        storeOpen = false;
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        logger.info('dicom-fhir-bridge stopped');
      })();
      return stopping;
    },
  };
}
