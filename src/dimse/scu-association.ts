/**
 * One association, requestor side: the service user above the upper layer
 * (./upper-layer.ts) when the bridge is the SCU. It opens the transport
 * (TCP or TLS: AE-1), proposes presentation contexts in an A-ASSOCIATE-RQ
 * (AE-2), sends DIMSE requests (with a data set when one goes with them:
 * a C-FIND identifier) and awaits their responses (several for a C-FIND:
 * pending ones, then the final one), then releases (AR-1) or aborts. Responses are assembled by the
 * shared assembler (./message-assembler.ts), data set included when one
 * comes (C-FIND responses carry identifiers). Every wait has a timeout:
 * connect (TCP and TLS handshake), ACSE (the A-ASSOCIATE-AC/RJ and the
 * A-RELEASE-RP) and DIMSE (a response). Failures are AssociationErrors
 * whose message carries the PS3.8 result/source/reason text.
 */
import { errorMessage } from '../errors.js';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Indication } from './actions.js';
import { AbortReason, AbortSource } from './bytes.js';
import { DICOM_APPLICATION_CONTEXT, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, PROTOCOL_VERSION, SCU_DATA_SET_CAP_BYTES } from './constants.js';
import { encodeCommand, type DimseCommand } from './dimse-command.js';
import { MessageAssembler, WholeMessages, type DimseMessage, type MessageError } from './message-assembler.js';
import type { AcceptedContext } from './negotiation.js';
import { PresentationContextResult, emptyUserInformation } from './pdu-items.js';
import type { AAssociateAc, AAssociateRj, AAssociateRq } from './pdu.js';
import { describeAbort, describeRejection } from './reasons.js';
import { clientTlsOptions, type ClientTlsOptions } from './tls.js';
import { UpperLayer, type UpperLayerUser } from './upper-layer.js';

export type AssociationErrorCode = 'refused' | 'timeout' | 'rejected' | 'aborted' | 'transport' | 'not-accepted' | 'protocol';

/** Why an association (or an operation on it) failed; `message` is meant for the operator. */
export class AssociationError extends Error {
  override name = 'AssociationError';
  constructor(
    readonly code: AssociationErrorCode,
    message: string,
    readonly rejection?: Pick<AAssociateRj, 'result' | 'source' | 'reason'>,
    readonly abort?: { source: number; reason: number },
  ) {
    super(message);
  }
}

export interface ProposedContext {
  abstractSyntax: string;
  transferSyntaxes: readonly string[];
}

export interface ScuAssociationOptions {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  /** true: TLS with Node's CAs; an object: CA, client certificate and key (PEM). */
  tls?: boolean | ClientTlsOptions;
  /** Presentation contexts proposed, with ids 1, 3, 5, ... in this order. */
  presentationContexts: readonly ProposedContext[];
  /** Maximum PDU length we announce (default 262144). */
  maxPduLength?: number;
  /** TCP connect and TLS handshake. */
  connectTimeoutMs: number;
  /** A-ASSOCIATE-AC/RJ, A-RELEASE-RP, and the close after an abort (ARTIM). */
  acseTimeoutMs: number;
  /** A DIMSE response. */
  dimseTimeoutMs: number;
  logger?: Logger;
}

const RESULT_TEXT: Readonly<Record<number, string>> = {
  [PresentationContextResult.UserRejection]: 'user rejection',
  [PresentationContextResult.NoReason]: 'no reason (provider rejection)',
  [PresentationContextResult.AbstractSyntaxNotSupported]: 'abstract syntax not supported',
  [PresentationContextResult.TransferSyntaxesNotSupported]: 'transfer syntaxes not supported',
};

/** Longest setTimeout delay; the idle timer of the upper layer is not what bounds an SCU's waits. */
const NO_IDLE_TIMEOUT_MS = 2_147_483_647;
/** Responses in but not taken: reading pauses at HIGH and resumes below LOW. */
const INBOX_HIGH = 512;
const INBOX_LOW = 128;

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: AssociationError): void;
}

export class ScuAssociation {
  private readonly ul: UpperLayer;
  private readonly logger: Logger;
  private readonly where: string;
  private phase: 'connect' | 'associate' | 'established' | 'release' | 'closed' = 'connect';
  private timer: NodeJS.Timeout | undefined;
  private opening: Waiter<void> | undefined;
  private releasing: Waiter<void> | undefined;
  /** The message id whose responses are awaited, the waiter for the next one, and those in but not yet taken. */
  private awaitedId: number | undefined;
  private responding: Waiter<DimseMessage> | undefined;
  private readonly inbox: DimseMessage[] = [];
  private readingPaused = false;
  private failure: AssociationError | undefined;
  private readonly assembler: MessageAssembler;
  private messageId = 0;
  private closedResolve!: () => void;
  /** Resolves once the transport is closed (after release, rejection or abort). */
  readonly closed: Promise<void> = new Promise((resolve) => (this.closedResolve = resolve));
  /** Accepted presentation contexts by id, once associated. */
  readonly accepted = new Map<number, AcceptedContext>();
  /** Results of the proposed contexts, by id (PS3.8 Table 9-18). */
  readonly results = new Map<number, number>();
  private ac: AAssociateAc | undefined;

  private constructor(private readonly options: ScuAssociationOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.where = `${options.calledAeTitle}@${options.host}:${options.port}`;
    this.assembler = new MessageAssembler(
      new WholeMessages({ onMessage: (m) => this.onMessage(m), onMessageError: (e) => this.onMessageError(e) }, SCU_DATA_SET_CAP_BYTES),
      (contextId) => this.accepted.has(contextId),
    );
    const user: UpperLayerUser = {
      onIndication: (ind) => this.onIndication(ind),
      onPdvData: (id, mch, data, complete) => this.assembler.push(id, mch, data, complete),
      onProviderRejected: () => undefined, // acceptor role only
      onClosed: () => this.onClosed(),
    };
    this.ul = new UpperLayer(
      undefined,
      {
        maxPduLength: options.maxPduLength ?? 262_144,
        artimTimeoutMs: options.acseTimeoutMs,
        idleTimeoutMs: NO_IDLE_TIMEOUT_MS,
        logger: this.logger,
        connect: (onConnected) => this.connectTransport(onConnected),
      },
      user,
    );
  }

  /** Connects and negotiates; resolves once the A-ASSOCIATE-AC is in, rejects with an AssociationError. */
  static async open(options: ScuAssociationOptions): Promise<ScuAssociation> {
    const association = new ScuAssociation(options);
    await association.start();
    return association;
  }

  /** The accepted context of an abstract syntax, if any. */
  contextFor(abstractSyntax: string): AcceptedContext | undefined {
    for (const c of this.accepted.values()) if (c.abstractSyntax === abstractSyntax) return c;
    return undefined;
  }

  /** Why the context proposed for an abstract syntax was not accepted (text), for error messages. */
  resultTextFor(abstractSyntax: string): string {
    const index = this.options.presentationContexts.findIndex((p) => p.abstractSyntax === abstractSyntax);
    if (index < 0) return 'not proposed';
    const result = this.results.get(index * 2 + 1);
    if (result === undefined) return 'not answered';
    return result === PresentationContextResult.Acceptance ? 'accepted' : (RESULT_TEXT[result] ?? `result ${result}`);
  }

  get peerImplementation(): { classUid?: string; versionName?: string } {
    const u = this.ac?.userInformation;
    return {
      ...(u?.implementationClassUid !== undefined ? { classUid: u.implementationClassUid } : {}),
      ...(u?.implementationVersionName !== undefined ? { versionName: u.implementationVersionName } : {}),
    };
  }

  nextMessageId(): number {
    this.messageId = (this.messageId % 0xffff) + 1;
    return this.messageId;
  }

  /** Sends a DIMSE request without data set; resolves with the response command set. */
  async request(contextId: number, command: DimseCommand): Promise<DimseCommand> {
    return (await this.exchange(contextId, command)).command;
  }

  /**
   * Sends a DIMSE request, with its data set when given (encoded in the
   * context's transfer syntax by the caller), and resolves with the first
   * response message; nextResponse() gives the ones after it (C-FIND).
   */
  exchange(contextId: number, command: DimseCommand, dataSet?: Buffer): Promise<DimseMessage> {
    if (this.phase !== 'established') return Promise.reject(this.failure ?? new AssociationError('protocol', 'no association'));
    if (!this.accepted.has(contextId)) return Promise.reject(new AssociationError('protocol', `presentation context ${contextId} is not accepted`));
    const messageId = command.messageId ?? this.nextMessageId();
    this.awaitedId = messageId;
    this.inbox.length = 0;
    this.ul.sendMessagePart(contextId, true, encodeCommand({ ...command, messageId }));
    if (dataSet !== undefined) this.ul.sendMessagePart(contextId, false, dataSet);
    return this.nextResponse();
  }

  /** The next response to the request of exchange(): one already in, else the next to come (DIMSE timeout). */
  nextResponse(): Promise<DimseMessage> {
    const queued = this.inbox.shift();
    if (queued !== undefined) {
      if (this.readingPaused && this.inbox.length < INBOX_LOW) {
        this.readingPaused = false;
        this.ul.resumeReading();
      }
      return Promise.resolve(queued);
    }
    if (this.phase !== 'established' || this.awaitedId === undefined) return Promise.reject(this.failure ?? new AssociationError('protocol', 'no request awaits a response'));
    return new Promise<DimseMessage>((resolve, reject) => {
      this.responding = { resolve, reject };
      this.arm(this.options.dimseTimeoutMs, () => `no DIMSE response from ${this.where} within ${this.options.dimseTimeoutMs} ms`);
    });
  }

  /** Sends a command that has no response of its own (C-CANCEL-RQ), on an accepted context. */
  sendCommand(contextId: number, command: DimseCommand): void {
    if (this.phase !== 'established' || !this.accepted.has(contextId)) return;
    this.ul.sendMessagePart(contextId, true, encodeCommand(command));
  }

  /** The transfer syntax accepted for a presentation context id. */
  transferSyntaxOf(contextId: number): string | undefined {
    return this.accepted.get(contextId)?.transferSyntax;
  }

  /** A-RELEASE: resolves once the A-RELEASE-RP is in and the transport closed. */
  async release(): Promise<void> {
    if (this.phase !== 'established') return;
    this.phase = 'release';
    await new Promise<void>((resolve, reject) => {
      this.releasing = { resolve, reject };
      this.arm(this.options.acseTimeoutMs, () => `no A-RELEASE-RP from ${this.where} within ${this.options.acseTimeoutMs} ms`);
      if (!this.ul.requestRelease()) reject(new AssociationError('protocol', `cannot release in ${this.ul.state}`));
    });
    await this.closed;
  }

  /** A-ABORT (service user); the transport closes once sent (or after ARTIM). */
  abort(): void {
    if (this.phase === 'closed') return;
    this.ul.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'abort-sent');
  }

  // ---- internals

  private start(): Promise<void> {
    const rq: AAssociateRq = {
      type: 'A-ASSOCIATE-RQ',
      protocolVersion: PROTOCOL_VERSION,
      calledAeTitle: this.options.calledAeTitle,
      callingAeTitle: this.options.callingAeTitle,
      applicationContextName: DICOM_APPLICATION_CONTEXT,
      presentationContexts: this.options.presentationContexts.map((pc, i) => ({
        id: i * 2 + 1,
        abstractSyntax: pc.abstractSyntax,
        transferSyntaxes: [...pc.transferSyntaxes],
      })),
      userInformation: {
        ...emptyUserInformation(),
        maximumLength: this.options.maxPduLength ?? 262_144,
        implementationClassUid: IMPLEMENTATION_CLASS_UID,
        implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      },
    };
    return new Promise<void>((resolve, reject) => {
      this.opening = { resolve, reject };
      this.arm(this.options.connectTimeoutMs, () =>
        `no connection to ${this.options.host}:${this.options.port} within ${this.options.connectTimeoutMs} ms${this.options.tls ? ' (TCP connect and TLS handshake)' : ''}`,
      );
      try {
        this.ul.requestAssociation(rq);
      } catch (err) {
        this.fail(new AssociationError('transport', `cannot connect to ${this.options.host}:${this.options.port}: ${errorMessage(err)}`));
      }
    });
  }

  private connectTransport(onConnected: () => void): Duplex {
    const { host, port, tls } = this.options;
    const connected = (): void => {
      this.phase = 'associate';
      this.arm(this.options.acseTimeoutMs, () => `no A-ASSOCIATE-AC or -RJ from ${this.where} within ${this.options.acseTimeoutMs} ms`);
      onConnected();
    };
    if (tls) {
      const socket = tlsConnect(clientTlsOptions(host, port, tls === true ? {} : tls), connected);
      socket.setNoDelay(true);
      return socket;
    }
    return netConnect({ host, port, noDelay: true }, connected);
  }

  /** One timer at a time: the wait of the current phase. On expiry: A-ABORT and fail with 'timeout'. */
  private arm(ms: number, message: () => string): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fail(new AssociationError('timeout', message()));
      this.abort();
    }, ms);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Rejects whatever is awaited (once). */
  private fail(err: AssociationError): void {
    this.failure ??= err;
    this.disarm();
    const waiters = [this.opening, this.releasing, this.responding];
    this.opening = this.releasing = this.responding = undefined;
    for (const w of waiters) w?.reject(err);
  }

  private onIndication(ind: Indication): void {
    switch (ind.kind) {
      case 'A-ASSOCIATE confirmation accept': {
        this.ac = ind.ac;
        for (const pc of ind.ac.presentationContexts) {
          this.results.set(pc.id, pc.result);
          const proposed = this.options.presentationContexts[(pc.id - 1) / 2];
          if (pc.result === PresentationContextResult.Acceptance && proposed && pc.id % 2 === 1)
            this.accepted.set(pc.id, { id: pc.id, abstractSyntax: proposed.abstractSyntax, transferSyntax: pc.transferSyntax });
        }
        this.phase = 'established';
        this.disarm();
        const w = this.opening;
        this.opening = undefined;
        w?.resolve();
        return;
      }
      case 'A-ASSOCIATE confirmation reject':
        this.fail(new AssociationError('rejected', `association rejected by ${this.where}: ${describeRejection(ind.rj)}`, ind.rj));
        return;
      case 'A-RELEASE confirmation': {
        this.disarm();
        const w = this.releasing;
        this.releasing = undefined;
        w?.resolve();
        return;
      }
      case 'A-RELEASE indication':
        // The peer asks to release: answer (also in a release collision, Sta9).
        this.fail(new AssociationError('aborted', `${this.where} released the association`));
        this.ul.releaseResponse();
        return;
      case 'A-ABORT indication':
        this.fail(new AssociationError('aborted', `association aborted by ${this.where}: ${describeAbort(ind.source, ind.reason)}`, undefined, ind));
        return;
      case 'A-P-ABORT indication':
        this.fail(this.providerAbortError(ind.reason, ind.detail));
        return;
      default:
        return;
    }
  }

  private providerAbortError(reason: number, detail: string | undefined): AssociationError {
    const transportError = this.ul.lastTransportError;
    if (this.phase === 'connect') {
      if (transportError !== undefined && /ECONNREFUSED/.test(transportError))
        return new AssociationError('refused', `connection refused by ${this.options.host}:${this.options.port}`);
      return new AssociationError('transport', `cannot connect to ${this.options.host}:${this.options.port}: ${transportError ?? detail ?? 'connection closed'}`);
    }
    if (detail !== undefined && transportError !== undefined)
      return new AssociationError('transport', `connection to ${this.where} failed: ${transportError}`);
    if (detail !== undefined) return new AssociationError('transport', `${this.where} closed the connection (${detail})`);
    return new AssociationError('aborted', `association aborted by ${this.where}: ${describeAbort(AbortSource.ServiceProvider, reason)}`, undefined, {
      source: AbortSource.ServiceProvider,
      reason,
    });
  }

  private onMessageError(error: MessageError): void {
    this.fail(new AssociationError('protocol', `protocol error from ${this.where}: ${error.detail}`));
    this.ul.abort(AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue, 'abort-sent');
  }

  /**
   * A whole message from the peer: the response awaited, or (anything else)
   * ignored. request() resolves with its command set; a data set that came
   * with it (a C-FIND identifier, say) is in `message.dataSet`.
   */
  private onMessage(message: DimseMessage): void {
    const { command } = message;
    if (this.awaitedId === undefined || command.messageIdBeingRespondedTo !== this.awaitedId) {
      this.logger.debug({ contextId: message.presentationContextId, commandField: command.commandField }, 'unexpected DIMSE message ignored');
      return;
    }
    const w = this.responding;
    if (w === undefined) {
      // Taken by the next nextResponse(); a peer far ahead of its reader is paused rather than buffered without bound.
      this.inbox.push(message);
      if (!this.readingPaused && this.inbox.length >= INBOX_HIGH) {
        this.readingPaused = true;
        this.ul.pauseReading();
      }
      return;
    }
    this.responding = undefined;
    this.disarm();
    w.resolve(message);
  }

  private onClosed(): void {
    this.phase = 'closed';
    this.assembler.reset();
    this.disarm();
    this.fail(this.failure ?? new AssociationError('transport', `connection to ${this.where} closed`));
    this.closedResolve();
  }
}
