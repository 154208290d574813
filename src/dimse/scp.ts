/**
 * StorageScp: the bridge's C-STORE SCP (Verification and every Storage SOP
 * Class). A TCP server whose connections each run one Association
 * (./association.ts). Socket handling stays on Duplex streams so a tls.Server
 * can be slotted in later.
 *
 * Events:
 *  - 'associationAccepted' ({callingAeTitle, calledAeTitle, peerAddress})
 *  - 'associationRejected' ({reason, callingAeTitle, calledAeTitle, peerAddress})
 *  - 'associationClosed'   ({callingAeTitle, calledAeTitle, peerAddress, instances, bytes, durationMs, endedBy})
 *  - 'cStore'              ({status, bytes, sopClassUid})
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { Association } from './association.js';
import { MIN_MAX_PDU_LENGTH } from './constants.js';
import type { StoreHandler } from './store-handler.js';

export interface ScpOptions {
  host: string;
  /** 0 = the OS picks. */
  port: number;
  /** Called AE titles we answer to (exact match after trimming spaces). */
  aeTitles: readonly string[];
  /** undefined = any calling AE title from anywhere. */
  isCallerAllowed?: (callingAeTitle: string, peerAddress: string) => boolean;
  /** Concurrent associations; beyond → A-ASSOCIATE-RJ transient, temporary congestion. */
  maxAssociations: number;
  /** What we announce and enforce inbound (default in SCP_DEFAULTS: 262144). */
  maxPduLength: number;
  headerCapBytes: number;
  artimTimeoutMs: number;
  idleTimeoutMs: number;
  /** Transfer syntaxes in order of preference (default: explicit VR LE, implicit VR LE, then the requestor's order). */
  transferSyntaxPreference?: readonly string[];
  logger: Logger;
  onStore: StoreHandler;
}

/** Connections not yet associated, beyond the association limit, that we still read (to answer RJ). */
const EXTRA_PENDING_CONNECTIONS = 16;

export class StorageScp extends EventEmitter {
  private server: Server | undefined;
  private readonly associations = new Set<Association>();
  private acceptedCount = 0;
  private nextId = 1;
  private closing = false;
  private drainWaiters: Array<() => void> = [];
  private readonly options: ScpOptions;

  constructor(options: ScpOptions) {
    super();
    if (!(options.maxPduLength >= MIN_MAX_PDU_LENGTH && options.maxPduLength <= 0xffffffff))
      throw new RangeError(`maxPduLength must be at least ${MIN_MAX_PDU_LENGTH}`);
    if (options.maxAssociations < 1) throw new RangeError('maxAssociations must be at least 1');
    this.options = options;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Associations accepted and not yet ended. */
  get activeAssociations(): number {
    return this.acceptedCount;
  }

  listen(): Promise<{ port: number }> {
    if (this.server) return Promise.reject(new Error('already listening'));
    const server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    this.server = server;
    server.on('error', (err) => this.options.logger.error({ err: err.message }, 'SCP server error'));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(err);
      };
      server.once('error', onError);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', onError);
        const address = server.address();
        const port = typeof address === 'object' && address !== null ? address.port : this.options.port;
        this.options.logger.info({ host: this.options.host, port, aeTitles: this.options.aeTitles }, 'DICOM SCP listening');
        resolve({ port });
      });
    });
  }

  /** Stop accepting; running associations get graceMs to finish, then are aborted. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = options.graceMs ?? 10_000;
    this.closing = true;
    const server = this.server;
    const serverClosed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
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
    this.server = undefined;
  }

  private onConnection(socket: Socket): void {
    socket.on('error', () => undefined); // reported by the association's upper layer; never crash
    if (this.closing || this.associations.size >= this.options.maxAssociations + EXTRA_PENDING_CONNECTIONS) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const id = this.nextId++;
    const logger = this.options.logger.child({ assoc: id, peer: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}` });
    let counted = false;
    const association: Association = new Association(
      socket,
      {
        aeTitles: this.options.aeTitles,
        ...(this.options.isCallerAllowed ? { isCallerAllowed: this.options.isCallerAllowed } : {}),
        maxPduLength: this.options.maxPduLength,
        headerCapBytes: this.options.headerCapBytes,
        artimTimeoutMs: this.options.artimTimeoutMs,
        idleTimeoutMs: this.options.idleTimeoutMs,
        ...(this.options.transferSyntaxPreference ? { transferSyntaxPreference: this.options.transferSyntaxPreference } : {}),
        onStore: this.options.onStore,
      },
      {
        isCongested: () => this.acceptedCount >= this.options.maxAssociations,
        accepted: (parties) => {
          counted = true;
          this.acceptedCount++;
          this.emit('associationAccepted', parties);
        },
        rejected: (reason, parties) => this.emit('associationRejected', { reason, ...parties }),
        cStore: (result) => this.emit('cStore', result),
        closed: (summary) => this.emit('associationClosed', summary),
        released: () => {
          if (counted) this.acceptedCount--;
          counted = false;
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
