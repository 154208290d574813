/**
 * StorageScp: the bridge's C-STORE SCP (Verification and every Storage SOP
 * Class). A TCP server, and optionally a TLS server on its own port (PS3.15
 * BCP 195 profile, ./tls.ts), whose connections each run one Association
 * (./association.ts). Both listeners share the limits, the handler and the
 * association count. A TLS handshake failure is logged (warn) and closes
 * that connection only.
 *
 * Events:
 *  - 'associationAccepted' ({callingAeTitle, calledAeTitle, peerAddress})
 *  - 'associationRejected' ({reason, callingAeTitle, calledAeTitle, peerAddress})
 *  - 'associationClosed'   ({callingAeTitle, calledAeTitle, peerAddress, instances, bytes, durationMs, endedBy})
 *  - 'cStore'              ({status, bytes, sopClassUid, sopInstanceUid, callingAeTitle, errorComment}: CStoreResult)
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { Association, normalizeAddress, type AssociationOptions } from './association.js';
import { evictionsFor, type ConnectionPhase, type Eviction } from './connection-admission.js';
import { MAX_CLOSING_CONNECTIONS, MIN_MAX_PDU_LENGTH, SCP_DEFAULTS } from './constants.js';
import type { StoreHandler } from './store-handler.js';
import { peerCertificateSummary, serverTlsOptions, type ScpTlsOptions } from './tls.js';
import { DEFAULT_WARM_UP, warmUpReceivePath, type WarmUpPlan, type WarmUpResult } from './warm-up.js';

export type { ScpTlsOptions } from './tls.js';
export type { CStoreResult } from './association.js';

export interface ScpOptions {
  host: string;
  /** 0 = the OS picks. */
  port: number;
  /** false: no plain TCP listener (TLS only). Default true. */
  plain?: boolean;
  /** The TLS listener (same host); undefined: none. */
  tls?: ScpTlsOptions;
  /** Called AE titles we answer to (exact match after trimming spaces). */
  aeTitles: readonly string[];
  /** undefined = any calling AE title from anywhere. */
  isCallerAllowed?: (callingAeTitle: string, peerAddress: string) => boolean;
  /** Concurrent associations; beyond → A-ASSOCIATE-RJ transient, temporary congestion. */
  maxAssociations: number;
  /** Concurrent associations of one calling AE title (a configured peer's limit); undefined: no own limit. */
  maxAssociationsOf?: (callingAeTitle: string) => number | undefined;
  /** What we announce and enforce inbound (default in SCP_DEFAULTS: 262144). */
  maxPduLength: number;
  headerCapBytes: number;
  artimTimeoutMs: number;
  idleTimeoutMs: number;
  /** A new connection's time for its whole A-ASSOCIATE-RQ (and, on the TLS port, for the handshake). Default in SCP_DEFAULTS. */
  associateRequestTimeoutMs?: number;
  /** Connections without a complete A-ASSOCIATE-RQ (not association slots); beyond, the oldest is closed. Defaults in SCP_DEFAULTS. */
  maxPendingConnections?: number;
  maxPendingConnectionsPerAddress?: number;
  /** A DIMSE message must complete within messageTimeoutMs + its bytes / minTransferRate (bytes/s), else A-ABORT. Defaults in SCP_DEFAULTS. */
  messageTimeoutMs?: number;
  minTransferRate?: number;
  /** Transfer syntaxes in order of preference (default: explicit VR LE, implicit VR LE, then the requestor's order). */
  transferSyntaxPreference?: readonly string[];
  logger: Logger;
  onStore: StoreHandler;
}

/** At most one line per this interval about connections closed to make room. */
const EVICTION_LOG_INTERVAL_MS = 10_000;

export interface ListeningPorts {
  /** The plain TCP port; undefined when plain is false. */
  port: number | undefined;
  /** The TLS port; undefined without TLS. */
  tlsPort: number | undefined;
}

export class StorageScp extends EventEmitter {
  private server: Server | undefined;
  private tlsServer: Server | undefined;
  private readonly associations = new Set<Association>();
  private acceptedCount = 0;
  private readonly acceptedByCaller = new Map<string, number>();
  private nextId = 1;
  private closing = false;
  private drainWaiters: Array<() => void> = [];
  private readonly options: ScpOptions;
  private readonly admission: { maxPending: number; maxPendingPerAddress: number; maxClosing: number };
  private evictionLog: { lastAt: number; held: number } = { lastAt: 0, held: 0 };

  constructor(options: ScpOptions) {
    super();
    if (!(options.maxPduLength >= MIN_MAX_PDU_LENGTH && options.maxPduLength <= 0xffffffff))
      throw new RangeError(`maxPduLength must be at least ${MIN_MAX_PDU_LENGTH}`);
    if (options.maxAssociations < 1) throw new RangeError('maxAssociations must be at least 1');
    if (options.plain === false && options.tls === undefined) throw new RangeError('no listener: plain is false and no tls');
    this.options = options;
    this.admission = {
      maxPending: options.maxPendingConnections ?? SCP_DEFAULTS.maxPendingConnections,
      maxPendingPerAddress: options.maxPendingConnectionsPerAddress ?? SCP_DEFAULTS.maxPendingConnectionsPerAddress,
      maxClosing: MAX_CLOSING_CONNECTIONS,
    };
    if (this.admission.maxPending < 1 || this.admission.maxPendingPerAddress < 1) throw new RangeError('pending connection limits must be at least 1');
  }

  /** Every configured listener is listening. */
  get listening(): boolean {
    const plainOk = this.options.plain === false || (this.server?.listening ?? false);
    const tlsOk = this.options.tls === undefined || (this.tlsServer?.listening ?? false);
    return plainOk && tlsOk;
  }

  /** Associations accepted and not yet ended. */
  get activeAssociations(): number {
    return this.acceptedCount;
  }

  /** Open connections per pool (./connection-admission.ts). */
  get connections(): Record<ConnectionPhase, number> {
    const counts: Record<ConnectionPhase, number> = { pending: 0, associated: 0, closing: 0 };
    for (const a of this.associations) counts[a.phase]++;
    return counts;
  }

  /** Opens the plain listener and the TLS one (as configured); rejects when a port is taken or a TLS file is bad. */
  /** How every association receives (the warm-up's too). */
  private receiveOptions(): Omit<AssociationOptions, 'onStore' | 'aeTitles' | 'isCallerAllowed'> {
    return {
      maxPduLength: this.options.maxPduLength,
      headerCapBytes: this.options.headerCapBytes,
      artimTimeoutMs: this.options.artimTimeoutMs,
      associateRequestTimeoutMs: this.associateRequestTimeoutMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
      messageTimeoutMs: this.options.messageTimeoutMs ?? SCP_DEFAULTS.messageTimeoutMs,
      minTransferRate: this.options.minTransferRate ?? SCP_DEFAULTS.minTransferRate,
      ...(this.options.transferSyntaxPreference ? { transferSyntaxPreference: this.options.transferSyntaxPreference } : {}),
    };
  }

  /**
   * Runs synthetic C-STOREs through the receive path in memory, storing
   * nothing (warm-up.ts), so that a restarted bridge takes its first
   * instances at the rate of a running one. Call before listen(). A warm-up
   * that fails is logged and changes nothing else.
   */
  async warmUp(plan: WarmUpPlan = DEFAULT_WARM_UP): Promise<WarmUpResult | undefined> {
    const logger = this.options.logger;
    try {
      const result = await warmUpReceivePath(this.receiveOptions(), logger.child({ warmUp: true }, { level: 'silent' }), plan);
      logger.debug(result, 'receive path warmed up');
      return result;
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'receive path warm-up failed: the first instances are received more slowly');
      return undefined;
    }
  }

  async listen(): Promise<ListeningPorts> {
    if (this.server || this.tlsServer) throw new Error('already listening');
    let port: number | undefined;
    let tlsPort: number | undefined;
    try {
      if (this.options.plain !== false) {
        const server = createServer({ noDelay: true }, (socket) => this.onConnection(socket, false));
        this.server = server;
        port = await this.open(server, this.options.port, 'DICOM SCP listening');
      }
      if (this.options.tls) {
        const tls = this.options.tls;
        const server = createTlsServer(serverTlsOptions(tls, this.associateRequestTimeoutMs), (socket) => this.onConnection(socket, true));
        // The peer address is taken when the TCP connection arrives: a failed TLS socket may have lost it.
        const peers = new WeakMap<object, string>();
        server.on('connection', (raw: Socket) => peers.set(raw, `${raw.remoteAddress ?? ''}:${raw.remotePort ?? ''}`));
        server.on('tlsClientError', (err: Error & { code?: string; reason?: string }, socket: TLSSocket) => {
          const parent = (socket as TLSSocket & { _parent?: object | null })._parent;
          const peer = (parent ? peers.get(parent) : undefined) ?? `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
          // OpenSSL's reason ("wrong version number", "peer did not return a certificate") without its source position.
          this.options.logger.warn({ peer, reason: err.reason ?? err.message.split('\n')[0], code: err.code }, 'DICOM TLS handshake failed');
        });
        this.tlsServer = server;
        tlsPort = await this.open(server, tls.port, 'DICOM TLS SCP listening', {
          requireClientCert: tls.requireClientCert,
          minVersion: tls.minVersion ?? 'TLSv1.2',
        });
      }
    } catch (err) {
      await this.closeServers();
      throw err;
    }
    return { port, tlsPort };
  }

  private open(server: Server, port: number, message: string, extra: Record<string, unknown> = {}): Promise<number> {
    server.on('error', (err) => this.options.logger.error({ err: err.message }, 'SCP server error'));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, this.options.host, () => {
        server.off('error', onError);
        const address = server.address();
        const bound = typeof address === 'object' && address !== null ? address.port : port;
        this.options.logger.info({ host: this.options.host, port: bound, aeTitles: this.options.aeTitles, ...extra }, message);
        resolve(bound);
      });
    });
  }

  private async closeServers(): Promise<void> {
    const servers = [this.server, this.tlsServer].filter((s): s is Server => s !== undefined);
    this.server = undefined;
    this.tlsServer = undefined;
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }

  /** Stop accepting; running associations get graceMs to finish, then are aborted. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = options.graceMs ?? 10_000;
    this.closing = true;
    const serverClosed = this.closeServers();
    for (const a of this.associations) a.release();
    if (this.associations.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const a of this.associations) a.abort('abort-sent');
          resolve();
        }, graceMs);
        this.drainWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    // Aborted connections close once the A-ABORT is flushed (or ARTIM expires); wait for that.
    if (this.associations.size > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await serverClosed;
  }

  /** Unset: the default, but never longer than ARTIM (which used to be the whole wait). */
  private get associateRequestTimeoutMs(): number {
    return this.options.associateRequestTimeoutMs ?? Math.min(this.options.artimTimeoutMs, SCP_DEFAULTS.associateRequestTimeoutMs);
  }

  /** Room for a connection from `address`: the oldest of a full pool is closed (./connection-admission.ts). */
  private makeRoom(address: string): void {
    const evictions = evictionsFor(this.associations, address, this.admission);
    for (const e of evictions) e.connection.abort('abort-sent');
    if (evictions.length > 0) this.logEvictions(evictions);
  }

  /** One warn line per interval, with how many were closed since the last one. */
  private logEvictions(evictions: Eviction<Association>[]): void {
    const now = Date.now();
    if (now - this.evictionLog.lastAt < EVICTION_LOG_INTERVAL_MS) {
      this.evictionLog.held += evictions.length;
      return;
    }
    const first = evictions[0]!;
    this.options.logger.warn(
      {
        peerAddress: first.connection.address,
        pool: first.reason,
        closedSinceLastLine: this.evictionLog.held + evictions.length,
        maxPendingConnections: this.admission.maxPending,
        maxPendingConnectionsPerAddress: this.admission.maxPendingPerAddress,
      },
      'DICOM connection pool full: oldest connection closed to make room',
    );
    this.evictionLog = { lastAt: now, held: 0 };
  }

  private onConnection(socket: Socket | TLSSocket, tls: boolean): void {
    socket.on('error', () => undefined); // reported by the association's upper layer; never crash
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.makeRoom(normalizeAddress(socket.remoteAddress));
    socket.setNoDelay(true);
    const id = this.nextId++;
    const bindings: Record<string, unknown> = { assoc: id, peer: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}` };
    if (tls) {
      bindings.tls = true;
      // Only a verified client certificate is named (requireClientCert); an unverified CN proves nothing.
      if ((socket as TLSSocket).authorized) {
        const cert = peerCertificateSummary(socket as TLSSocket);
        if (cert?.subject !== undefined) bindings.peerCert = cert.subject;
      }
    }
    const logger = this.options.logger.child(bindings);
    let counted = false;
    let caller = '';
    // Once the association is over (Sta13) or the transport closed, whichever comes first: a socket
    // lingering after its release or abort counts in the closing pool, not as an association.
    const freeSlot = (): void => {
      if (!counted) return;
      counted = false;
      this.acceptedCount--;
      const left = (this.acceptedByCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.acceptedByCaller.set(caller, left);
      else this.acceptedByCaller.delete(caller);
    };
    const association: Association = new Association(
      socket,
      {
        aeTitles: this.options.aeTitles,
        ...(this.options.isCallerAllowed ? { isCallerAllowed: this.options.isCallerAllowed } : {}),
        ...this.receiveOptions(),
        onStore: this.options.onStore,
      },
      {
        isCongested: (callingAeTitle) => {
          if (this.acceptedCount >= this.options.maxAssociations) return true;
          const own = this.options.maxAssociationsOf?.(callingAeTitle);
          return own !== undefined && (this.acceptedByCaller.get(callingAeTitle) ?? 0) >= own;
        },
        accepted: (parties) => {
          counted = true;
          caller = parties.callingAeTitle;
          this.acceptedCount++;
          this.acceptedByCaller.set(caller, (this.acceptedByCaller.get(caller) ?? 0) + 1);
          this.emit('associationAccepted', parties);
        },
        rejected: (reason, parties) => this.emit('associationRejected', { reason, ...parties }),
        cStore: (result) => this.emit('cStore', result),
        closed: (summary) => this.emit('associationClosed', summary),
        slotFreed: () => freeSlot(),
        released: () => {
          freeSlot();
          this.associations.delete(association);
          if (this.associations.size === 0) for (const w of this.drainWaiters.splice(0)) w();
        },
      },
      logger,
    );
    this.associations.add(association);
    association.start();
  }
}
