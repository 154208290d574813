import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { maskSecrets } from './config/mask.js';
import { PeerTable } from './config/peers.js';
import type { BridgeConfig } from './config/schema.js';
import { StorageScp, type CStoreResult } from './dimse/scp.js';
import { createFhirClient } from './fhir-client/create-fhir-client.js';
import { HttpAccess } from './http/access.js';
import { BridgeMetrics } from './http/metrics.js';
import { IngestRate, PeerActivity } from './http/admin-activity.js';
import { cachedProbe } from './http/admin-reachability.js';
import { AdminSessions } from './http/admin-session.js';
import { createHttpServer } from './http/server.js';
import { Aggregator } from './pipeline/aggregator.js';
import { mappingOptionsFor } from './publish/mapping-options-for.js';
import { manifestSettings } from './publish/manifest-writer.js';
import { Publisher, publisherSettings } from './publish/publisher.js';
import type { ResourceIndex } from './fhir-endpoint/resource-index.js';
import { RemoteResourceIndex } from './fhir-endpoint/remote-resource-index.js';
import { rejectionCheckingStoreHandler } from './pipeline/rejection-check.js';
import { openPipeline } from './pipeline/open-pipeline.js';
import { isRefusal, RefusedStoreLog, statusHex } from './pipeline/refused-store-log.js';

export { AccessConfigurationError } from './http/access.js';

/** What a process runs: everything, only the DICOM receiver, or only the aggregator and publisher. */
export type Role = 'all' | 'scp' | 'worker';

export interface RunningBridge {
  /** Undefined for the worker role. */
  dicomPort: number | undefined;
  httpPort: number;
  /** Re-reads peers (AE titles, hosts, defaults) without dropping running associations. */
  reloadPeers(config: BridgeConfig): void;
  /** Graceful stop: no new associations, running ones get `graceMs`, queues closed after running work, stores closed. */
  stop(graceMs?: number): Promise<void>;
}

function warnAboutDefaults(config: BridgeConfig, role: Role, peers: PeerTable, logger: Logger): void {
  if (role !== 'worker' && peers.acceptsAny) {
    logger.warn('dicom.allowedCallers (DICOM_ALLOWED_CALLERS) and peers are empty: any calling AE title is accepted');
  }
  if (role !== 'scp' && !config.fhir.baseUrl) {
    logger.warn(
      'fhir.baseUrl (FHIR_BASE_URL) is unset: ImagingStudy resources are generated and kept in the store, not sent anywhere',
    );
  }
}

/** The built-in FHIR endpoint's index, when the endpoint is on (auto: when no external FHIR server is set). */
async function openLocalIndex(config: BridgeConfig, logger: Logger): Promise<ResourceIndex | undefined> {
  const { enabled } = config.fhirEndpoint;
  if (enabled === 'off' || (enabled === 'auto' && config.fhir.baseUrl)) return undefined;
  const settings = { fhirVersion: config.fhir.version, timezone: config.timezone };
  if (!config.redisUrl) {
    // fhir-index.sqlite in a worker thread of its own, its calls bounded as the store's (STORAGE_COMMIT_TIMEOUT_MS).
    const index = new RemoteResourceIndex({ dataDir: config.dataDir, ...settings, timeoutMs: config.pipeline.storageCommitTimeoutMs, logger });
    await index.ready;
    return index;
  }
  // ioredis only in distributed mode (as openPipeline).
  const { RedisResourceIndex } = await import('./fhir-endpoint/redis/index.js');
  return new RedisResourceIndex({ client: config.redisUrl, prefix: config.redis.prefix, ...settings });
}

/** Composition root: wires configuration to the SCP, the pipeline and the HTTP endpoints. */
export async function startBridge(config: BridgeConfig, logger: Logger, role: Role = 'all'): Promise<RunningBridge> {
  if (role !== 'all' && !config.redisUrl) {
    throw new Error(`--role ${role} needs the distributed mode (REDIS_URL): the embedded store serves one process`);
  }
  let peers = new PeerTable(config.peers, config.dicom.allowedCallers);
  warnAboutDefaults(config, role, peers, logger);
  // Before anything opens: a listener that would expose patient data does not start.
  const access = new HttpAccess({ host: config.http.host, adminToken: config.http.adminToken, fhirToken: config.fhirEndpoint.bearerToken });

  // The admin console's login sessions, checked by the access model beside the tokens.
  const sessions = new AdminSessions();
  access.useSessions(sessions);
  const ingest = new IngestRate();
  const peersSeen = new PeerActivity();

  const pipeline = await openPipeline(config, logger, { runRetention: true });
  const { queue, store } = pipeline;
  const metrics = new BridgeMetrics(queue, store, { dataDir: config.redisUrl ? undefined : config.dataDir });
  // Per-sender metrics and refusal logs: configured peers by AE title, every other sender as one `other`.
  const senderOf = (callingAeTitle: string): string => (peers.peer(callingAeTitle) ? callingAeTitle : 'other');
  const refusals = new RefusedStoreLog({ logger, keyOf: senderOf });
  const schedule = { debounceMs: config.pipeline.debounceMs, maxDelayMs: config.pipeline.maxDelayMs };
  const localIndex = await openLocalIndex(config, logger);

  const client = role !== 'scp' ? createFhirClient(config.fhir, logger) : undefined;
  if (role !== 'scp') {
    new Aggregator({ queue, store, schedule, logger }).start();
    new Publisher({
      queue,
      store,
      client,
      localIndex,
      mappingOptionsFor: mappingOptionsFor(config, () => peers, logger),
      ...publisherSettings(config.fhir),
      ...(config.manifest.format === 'mado' ? { manifest: manifestSettings(config) } : {}),
      logger,
      onOutcome: (outcome) => {
        // 'stored': no FHIR server, the resources are in the store and the built-in endpoint.
        if (outcome.result === 'published' || outcome.result === 'stored') {
          metrics.publishLatency.observe(Math.max(0, Date.now() - Date.parse(outcome.lastReceivedAt)) / 1000);
        } else if (outcome.result === 'retry' || outcome.result === 'failed') {
          metrics.fhirErrors.inc({ status: outcome.httpStatus === undefined ? 'network' : String(outcome.httpStatus) });
        }
      },
    }).start();
  }

  let scp: StorageScp | undefined;
  if (role !== 'worker') {
    const dicomTls = config.dicom.tls;
    scp = new StorageScp({
      host: config.dicom.host,
      port: config.dicom.port,
      plain: config.dicom.plain,
      // The TLS listener (PS3.15 BCP 195) when a certificate and key are configured.
      tls:
        dicomTls.certFile !== undefined && dicomTls.keyFile !== undefined
          ? {
              port: dicomTls.port,
              certFile: dicomTls.certFile,
              keyFile: dicomTls.keyFile,
              ...(dicomTls.caFile !== undefined ? { caFile: dicomTls.caFile } : {}),
              requireClientCert: dicomTls.requireClientCert,
              minVersion: dicomTls.minVersion,
            }
          : undefined,
      aeTitles: config.dicom.aeTitles,
      // Looked up per association, so a SIGHUP reload applies to the next one.
      isCallerAllowed: (callingAeTitle, peerAddress) => peers.isAllowed(callingAeTitle, peerAddress),
      maxAssociations: config.dicom.maxAssociations,
      maxAssociationsOf: (callingAeTitle) => peers.peer(callingAeTitle)?.maxAssociations,
      maxPduLength: config.dicom.maxPduLength,
      headerCapBytes: config.dicom.headerCapBytes,
      artimTimeoutMs: config.dicom.artimTimeoutMs,
      idleTimeoutMs: config.dicom.idleTimeoutMs,
      associateRequestTimeoutMs: config.dicom.associateRequestTimeoutMs,
      maxPendingConnections: config.dicom.maxPendingConnections,
      maxPendingConnectionsPerAddress: config.dicom.maxPendingConnectionsPerAddress,
      messageTimeoutMs: config.dicom.messageTimeoutMs,
      minTransferRate: config.dicom.minTransferRate,
      transferSyntaxPreference:
        config.dicom.transferSyntaxPreference.length > 0 ? config.dicom.transferSyntaxPreference : undefined,
      logger,
      // Success goes out only after the record is committed (the queue resolves after its transaction
      // or, distributed, after Redis has the job); a rejection answers A700H.
      onStore: rejectionCheckingStoreHandler({ store, queue, logger }),
    });
    scp.on('associationAccepted', (event: { callingAeTitle: string; peerAddress: string }) => {
      peersSeen.accepted(event.callingAeTitle, event.peerAddress);
      metrics.associationsAccepted.inc();
      metrics.callerAssociations.inc({ calling_ae: senderOf(event.callingAeTitle), result: 'accepted' });
    });
    scp.on('associationRejected', (event: { reason: string; callingAeTitle?: string; peerAddress: string }) => {
      peersSeen.rejected(event.callingAeTitle ?? '', event.peerAddress, event.reason);
      metrics.associationsRejected.inc({ reason: event.reason });
      metrics.callerAssociations.inc({ calling_ae: senderOf(event.callingAeTitle ?? ''), result: event.reason });
    });
    scp.on('cStore', (event: CStoreResult) => {
      const sender = senderOf(event.callingAeTitle);
      metrics.instancesReceived.inc();
      ingest.record();
      peersSeen.instance(event.callingAeTitle);
      metrics.callerInstances.inc({ calling_ae: sender });
      metrics.bytesReceived.inc(event.bytes);
      metrics.cStoreStatus.inc({ status: statusHex(event.status) });
      if (isRefusal(event.status)) metrics.callerRefusals.inc({ calling_ae: sender, status: statusHex(event.status) });
      refusals.record(event);
    });
  }

  const receiver = scp;
  let current = config;
  const fhirReachable = client && cachedProbe(`GET ${String(maskSecrets(config.fhir.baseUrl))}/metadata`, async () => void (await client.metadata()));
  const http: Server = createHttpServer({
    store,
    queue,
    isReady: () => pipeline.isHealthy() && (receiver === undefined || receiver.listening),
    ...(pipeline.storage ? { storage: () => pipeline.storage!() } : {}),
    ...(localIndex instanceof RemoteResourceIndex ? { fhirIndex: () => localIndex.condition() } : {}),
    logger,
    fhirTarget: maskSecrets(config.fhir.baseUrl) as string | undefined,
    metrics: metrics.registry,
    schedule,
    access,
    admin: {
      store,
      queue,
      schedule,
      logger,
      access,
      sessions,
      ingest,
      peers: peersSeen,
      mode: config.redisUrl ? 'distributed' : 'embedded',
      fhirTarget: maskSecrets(config.fhir.baseUrl) as string | undefined,
      config: () => maskSecrets(current),
      dicom: () => ({
        aeTitles: current.dicom.aeTitles,
        allowedCallers: current.dicom.allowedCallers,
        peers: maskSecrets(current.peers) as unknown[],
        acceptsAny: peers.acceptsAny,
      }),
      reachability: async () => ({
        ...(fhirReachable ? { fhirServer: await fhirReachable() } : {}),
        ...(config.redisUrl ? { redis: { ok: pipeline.isHealthy(), detail: pipeline.isHealthy() ? 'connected' : 'not connected' } } : {}),
      }),
    },
    fhirEndpoint: localIndex && {
      index: localIndex,
      fhirVersion: config.fhir.version,
      keyImages: config.fhir.keyImages,
      manifests: config.manifest.format === 'mado',
      timezone: config.timezone,
      bearerToken: config.fhirEndpoint.bearerToken,
      baseUrl: config.fhirEndpoint.publicBaseUrl,
      logger,
    },
  });
  // Longer than the clients' idle keep-alive (undici: the server's hint minus 1 s), so the client
  // closes an idle connection first and never sends on one the server is closing.
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  http.listen(config.http.port, config.http.host);
  await once(http, 'listening');
  const httpPort = (http.address() as AddressInfo).port;
  if (receiver) {
    // Before listening: the first sender after a restart meets code V8 has already compiled (issue 20, item 5).
    const warm = await receiver.warmUp();
    if (warm) logger.info(warm, 'receive path warmed up: synthetic C-STOREs in memory, nothing stored');
  }
  const dicomPort = receiver ? (await receiver.listen()).port : undefined;
  logger.info(
    {
      role,
      mode: config.redisUrl ? 'distributed' : 'embedded',
      dicomHost: receiver ? config.dicom.host : undefined,
      dicomPort,
      aeTitles: receiver ? config.dicom.aeTitles : undefined,
      peers: peers.size,
      httpHost: config.http.host,
      httpPort,
      fhirVersion: config.fhir.version,
      fhirBaseUrl: role === 'scp' ? undefined : ((maskSecrets(config.fhir.baseUrl) as string | undefined) ?? null),
      fhirEndpoint: localIndex ? `http://${config.http.host}:${httpPort}/fhir` : 'off',
      httpAccess: access.tokenRequired ? 'token' : 'open on loopback',
      dataDir: config.redisUrl ? undefined : config.dataDir,
    },
    'dicom-fhir-bridge started',
  );

  let stopping: Promise<void> | undefined;
  return {
    dicomPort,
    httpPort,
    reloadPeers(next) {
      peers = new PeerTable(next.peers, next.dicom.allowedCallers);
      current = next;
      logger.info({ peers: peers.size, acceptsAny: peers.acceptsAny }, 'peers reloaded');
    },
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        await receiver?.close({ graceMs });
        refusals.close();
        await pipeline.close();
        await localIndex?.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        logger.info('dicom-fhir-bridge stopped');
      })();
      return stopping;
    },
  };
}
