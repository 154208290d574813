/**
 * The DICOM Upper Layer service provider for one transport connection
 * (PS3.8 Section 9): it feeds received PDUs into the state machine of
 * ./state-machine.ts, runs the actions of ./actions.ts, and offers the
 * service user (./association.ts acceptor side, ./scu-association.ts
 * requestor side) the primitives of PS3.8 Section 7 as methods. Transport
 * is any Duplex (net.Socket or tls.TLSSocket).
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ACTION_FUNCTIONS, type EventData, type Indication, type UpperLayerPort } from './actions.js';
import { AbortReason, AbortSource, PduDecodeError } from './bytes.js';
import { MAX_ASSOCIATE_PDU_LENGTH } from './constants.js';
import { isProtocolVersionSupported, rejection } from './negotiation.js';
import { PduType, decodePdu, encodePdu, messagePdvs, type AAssociateAc, type AAssociateRj, type AAssociateRq, type Pdu } from './pdu.js';
import { PduStreamReader } from './pdu-stream.js';
import { readTransport } from './transport-reader.js';
import { actionFor, type Event, type State } from './state-machine.js';

export type EndedBy = 'release' | 'abort-received' | 'abort-sent' | 'timeout' | 'socket';

/** What the upper layer tells its service user. */
export interface UpperLayerUser {
  onIndication(indication: Indication): void;
  /** `data` is valid only during the call (it may be the reused read buffer): copy what is kept. */
  onPdvData(presentationContextId: number, messageControlHeader: number, data: Buffer, pdvComplete: boolean): void;
  /** AE-6 rejected the A-ASSOCIATE-RQ itself (protocol version); for events and logs. */
  onProviderRejected(rq: AAssociateRq): void;
  /** Sta13: the association is over (RJ, RP or A-ABORT sent), the transport not closed yet. */
  onClosing?(): void;
  /** The transport is closed; the upper layer is back in Sta1. */
  onClosed(endedBy: EndedBy): void;
}

export interface UpperLayerOptions {
  /** Maximum P-DATA-TF PDU length we announce and enforce inbound. */
  maxPduLength: number;
  artimTimeoutMs: number;
  /** ARTIM in Sta2 only: a new connection's wait for its whole A-ASSOCIATE-RQ (default artimTimeoutMs). */
  associateRequestTimeoutMs?: number;
  idleTimeoutMs: number;
  logger: Logger;
  /**
   * Requestor role: AE-1 (TRANSPORT CONNECT) calls this; it opens the
   * transport and calls `onConnected` once it is usable (after the TLS
   * handshake for TLS), which is Evt2.
   */
  connect?: (onConnected: () => void) => Duplex;
}

const PDU_EVENT: Readonly<Record<number, Event>> = {
  [PduType.AAssociateRq]: 'Evt6',
  [PduType.AAssociateAc]: 'Evt3',
  [PduType.AAssociateRj]: 'Evt4',
  [PduType.AReleaseRq]: 'Evt12',
  [PduType.AReleaseRp]: 'Evt13',
  [PduType.AAbort]: 'Evt16',
};

export class UpperLayer {
  private stateValue: State = 'Sta1';
  private readonly reader: PduStreamReader;
  private artim: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private idleSuspended = false;
  /** The service user is receiving a DIMSE message, whose own deadline applies: not idle. */
  private messageInProgress = false;
  private deliverPData = false;
  private pending: Indication[] = [];
  private endedBy: EndedBy | undefined;
  private closedNotified = false;
  /** Largest PDU the peer accepts (its Maximum Length sub-item; 0 = unlimited). */
  private peerMaxPduLength = 0;
  private readingPaused = false;
  private readonly traceEnabled: boolean;
  /** The transport was paused because data came while reading was paused. */
  private transportPaused = false;
  /** The transport's last error (e.g. ECONNREFUSED, TLS handshake), for the A-P-ABORT indication. */
  private transportError: string | undefined;
  /** Requestor: the A-ASSOCIATE-RQ to send once the transport is connected (AE-2). */
  private pendingRq: AAssociateRq | undefined;
  private transport: Duplex | undefined;

  constructor(
    transport: Duplex | undefined,
    private readonly options: UpperLayerOptions,
    private readonly user: UpperLayerUser,
  ) {
    this.transport = transport;
    // AR-8 (release collision) goes to Sta9 for the requestor, Sta10 for the acceptor.
    (this.port as { isRequestor: boolean }).isRequestor = options.connect !== undefined;
    this.traceEnabled = options.logger.isLevelEnabled('trace');
    this.reader = new PduStreamReader(
      { maxPDataLength: options.maxPduLength, maxOtherPduLength: Math.max(MAX_ASSOCIATE_PDU_LENGTH, options.maxPduLength) },
      {
        onPdu: (type, body) => {
          this.touchIdle();
          this.onPdu(type, body);
        },
        onPDataStart: () => {
          // Idle is measured from the last PDU header, not the last byte: a byte now and then keeps nothing open.
          this.touchIdle();
          this.deliverPData = false;
          this.dispatch('Evt10');
          return this.deliverPData;
        },
        onPdvData: (id, mch, data, complete) => this.user.onPdvData(id, mch, data, complete),
        onStreamError: (message, reason) => this.dispatch('Evt19', { abortReason: reason, detail: message }),
      },
    );
  }

  get state(): State {
    return this.stateValue;
  }

  /** Evt5: a transport connection was accepted (acceptor role). */
  start(): void {
    if (!this.transport) throw new Error('start() needs the accepted transport');
    this.attach(this.transport);
    this.dispatch('Evt5');
  }

  /**
   * A-ASSOCIATE request, Evt1 (requestor role): AE-1 opens the transport
   * through options.connect; once connected (Evt2), AE-2 sends `rq`.
   */
  requestAssociation(rq: AAssociateRq): void {
    if (!this.options.connect) throw new Error('requestAssociation needs options.connect (requestor role)');
    this.pendingRq = rq;
    if (!this.dispatch('Evt1')) throw new Error(`A-ASSOCIATE request in ${this.stateValue}`);
  }

  /** The transport's last error message, if any. */
  get lastTransportError(): string | undefined {
    return this.transportError;
  }

  private attach(transport: Duplex): void {
    const reusedReadBuffer = readTransport(transport, (chunk) => {
      if (this.readingPaused && !this.transportPaused) {
        this.transportPaused = true;
        transport.pause();
      }
      this.reader.push(chunk);
    });
    this.options.logger.debug({ reusedReadBuffer }, 'transport attached');
    transport.on('error', (err: Error) => {
      this.options.logger.debug({ err: err.message }, 'transport error');
      this.transportError ??= err.message;
      this.endedBy ??= 'socket';
    });
    transport.on('close', () => {
      this.endedBy ??= 'socket';
      this.dispatch('Evt17', { detail: this.transportError ?? 'transport connection closed by peer' });
      this.finishClose();
    });
  }

  // ---- Service primitives offered to the service user (PS3.8 Section 7)

  /** A-ASSOCIATE response (accept), Evt7. */
  acceptAssociation(ac: AAssociateAc, peerMaxPduLength: number): void {
    this.peerMaxPduLength = peerMaxPduLength;
    this.dispatch('Evt7', { pdu: ac });
    this.touchIdle();
  }

  /** A-ASSOCIATE response (reject), Evt8. */
  rejectAssociation(rj: AAssociateRj): void {
    this.dispatch('Evt8', { pdu: rj });
  }

  /**
   * P-DATA request, Evt9: one DIMSE message part (command or data set) as
   * PDVs fragmented to the peer's maximum PDU length, one PDV per PDU (./pdu.ts).
   */
  sendMessagePart(presentationContextId: number, isCommand: boolean, bytes: Buffer): void {
    for (const pdv of messagePdvs(presentationContextId, isCommand, bytes, this.peerMaxPduLength))
      this.dispatch('Evt9', { pdu: { type: 'P-DATA-TF', pdvs: [pdv] } });
  }

  /** A-RELEASE request, Evt11 (graceful shutdown initiated by us). */
  requestRelease(): boolean {
    return this.dispatch('Evt11');
  }

  /** A-RELEASE response, Evt14. */
  releaseResponse(): void {
    this.dispatch('Evt14');
  }

  /** A-ABORT request, Evt15. Where Table 9-10 has no Evt15 entry (Sta2), the connection is just closed. */
  abort(source: AbortSource, reason: AbortReason, endedBy: EndedBy): void {
    this.endedBy ??= endedBy;
    if (!this.dispatch('Evt15', { abortSource: source, abortReason: reason }) && this.stateValue !== 'Sta1') this.port.closeTransport();
  }

  /**
   * Stop reading (backpressure while the service user finishes a message).
   * The transport itself is paused only when data arrives meanwhile: a peer
   * that waits for the response (the usual case, one operation at a time)
   * costs no stream pause/resume per message.
   */
  pauseReading(): void {
    this.readingPaused = true;
    // The idle timer keeps running (re-armed if it fires meanwhile): no timer churn per message.
    this.idleSuspended = true;
    this.reader.pause();
  }

  /** Whether the service user is in the middle of a DIMSE message (its deadline, not the idle timer, applies). */
  setMessageInProgress(inProgress: boolean): void {
    this.messageInProgress = inProgress;
  }

  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.idleSuspended = false;
    this.touchIdle();
    this.reader.resume();
    if (!this.readingPaused && this.transportPaused) {
      this.transportPaused = false;
      this.transport?.resume();
    }
  }

  // ---- State machine driver

  /** Runs the action Table 9-10 gives for `event` in the current state. False for a blank cell. */
  private dispatch(event: Event, data: EventData = {}): boolean {
    const name = actionFor(this.stateValue, event);
    if (name === undefined) {
      this.options.logger.trace({ state: this.stateValue, event }, 'no transition');
      return false;
    }
    const from = this.stateValue;
    this.stateValue = ACTION_FUNCTIONS[name](this.port, data, event);
    // Several transitions per C-STORE: build the log object only when it is logged.
    if (this.traceEnabled) this.options.logger.trace({ from, event, action: name, to: this.stateValue }, 'upper layer transition');
    const indications = this.pending;
    this.pending = [];
    for (const ind of indications) this.user.onIndication(ind);
    if (this.stateValue === 'Sta13' && from !== 'Sta13') this.user.onClosing?.();
    if (this.stateValue === 'Sta1') this.finishClose();
    return true;
  }

  private onPdu(type: number, body: Buffer): void {
    let pdu: Pdu;
    try {
      pdu = decodePdu(type, body);
    } catch (err) {
      const reason = err instanceof PduDecodeError ? err.reason : AbortReason.InvalidPduParameterValue;
      this.dispatch('Evt19', { abortReason: reason, detail: (err as Error).message });
      return;
    }
    if (pdu.type === 'A-ABORT') this.endedBy ??= 'abort-received';
    this.dispatch(PDU_EVENT[type]!, { pdu });
  }

  private readonly port: UpperLayerPort = {
    isRequestor: false,
    connectTransport: () => {
      const connect = this.options.connect;
      if (!connect) throw new Error('AE-1: no transport connector (acceptor role)');
      const transport = connect(() => {
        // Evt2: transport connect confirmation; AE-2 sends the A-ASSOCIATE-RQ.
        const rq = this.pendingRq;
        this.pendingRq = undefined;
        if (rq) this.dispatch('Evt2', { pdu: rq });
      });
      this.transport = transport;
      this.attach(transport);
    },
    sendPdu: (pdu) => {
      if (pdu.type === 'A-ASSOCIATE-RJ') {
        // Closed once the RJ is flushed (PS3.8 allows the acceptor to close after AE-8): a rejected
        // peer that never closes holds nothing for the ARTIM time.
        this.reader.stop();
        this.write(encodePdu(pdu));
        const t = this.transport;
        if (t && !t.destroyed) {
          t.once('finish', () => t.destroy());
          t.end();
        }
        return;
      }
      if (pdu.type === 'A-ABORT') {
        // After an A-ABORT nothing more is read; we also end our side so the
        // peer sees the close promptly (ARTIM still bounds the wait).
        this.endedBy ??= 'abort-sent';
        this.reader.stop();
        this.clearIdle();
        this.write(encodePdu(pdu));
        this.transport?.end();
        return;
      }
      if (pdu.type === 'A-RELEASE-RP') this.endedBy ??= 'release';
      this.write(encodePdu(pdu));
    },
    closeTransport: () => {
      this.clearIdle();
      this.reader.stop();
      this.transport?.destroy();
    },
    startArtim: (awaitingRequest) => {
      this.stopArtimTimer();
      const ms = awaitingRequest ? (this.options.associateRequestTimeoutMs ?? this.options.artimTimeoutMs) : this.options.artimTimeoutMs;
      this.artim = setTimeout(() => {
        this.artim = undefined;
        this.endedBy ??= 'timeout';
        this.options.logger.debug({ state: this.stateValue }, 'ARTIM timer expired');
        this.dispatch('Evt18');
      }, ms);
      this.artim.unref();
    },
    stopArtim: () => this.stopArtimTimer(),
    indicate: (indication) => {
      switch (indication.kind) {
        case 'P-DATA indication':
          this.deliverPData = true;
          return;
        case 'A-ASSOCIATE confirmation accept':
          this.peerMaxPduLength = indication.ac.userInformation.maximumLength ?? 0;
          break;
        case 'A-RELEASE confirmation':
          this.endedBy ??= 'release';
          break;
        default:
          break;
      }
      this.pending.push(indication);
    },
    providerRejection: (rq: AAssociateRq) => {
      if (isProtocolVersionSupported(rq)) return undefined;
      this.user.onProviderRejected(rq);
      return rejection('protocol-version');
    },
  };

  private write(bytes: Buffer): void {
    const t = this.transport;
    if (t && t.writable && !t.destroyed) t.write(bytes);
  }

  private stopArtimTimer(): void {
    if (this.artim) clearTimeout(this.artim);
    this.artim = undefined;
  }

  private clearIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** Idle timer: no PDU header for idleTimeoutMs in an association → A-ABORT (Evt15). */
  private touchIdle(): void {
    if (this.idleSuspended || this.reader.stopped) return;
    const s = this.stateValue;
    if (s === 'Sta1' || s === 'Sta2' || s === 'Sta13') return;
    if (this.idle) {
      this.idle.refresh();
      return;
    }
    this.idle = setTimeout(() => {
      if (this.idleSuspended || this.messageInProgress) {
        this.idle?.refresh(); // a message is being received or handled: not idle
        return;
      }
      this.idle = undefined;
      this.options.logger.info({ idleTimeoutMs: this.options.idleTimeoutMs }, 'association idle: aborting');
      this.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'timeout');
    }, this.options.idleTimeoutMs);
    this.idle.unref();
  }

  private finishClose(): void {
    if (this.closedNotified) return;
    if (this.stateValue !== 'Sta1') return;
    this.closedNotified = true;
    this.stopArtimTimer();
    this.clearIdle();
    this.reader.stop();
    if (this.transport && !this.transport.destroyed) this.transport.destroy();
    this.user.onClosed(this.endedBy ?? 'socket');
  }
}
