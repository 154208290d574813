/**
 * One association, acceptor side: the service user above the upper layer.
 * It answers the A-ASSOCIATE indication (./negotiation.ts), takes DIMSE
 * messages from the shared assembler (./message-assembler.ts), streams
 * C-STORE data sets into a DatasetHeaderSink fragment by fragment, and
 * answers C-ECHO and C-STORE (PS3.7 Sections 9.1.1, 9.1.5, 9.3.1, 9.3.5).
 */
import { errorMessage } from '../errors.js';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { DatasetError, DatasetHeaderSink } from '../dicom/dataset-sink.js';
import { VERIFICATION_SOP_CLASS } from '../dicom/uids.js';
import type { InstanceRecord, ReceiptData } from '../dicom/instance-record.js';
import type { Indication } from './actions.js';
import { commandSopClassFits, storeIdentity } from './command-uids.js';
import { AbortReason, AbortSource } from './bytes.js';
import type { AdmittedConnection, ConnectionPhase } from './connection-admission.js';
import {
  CommandField,
  NO_DATA_SET,
  REQUESTS_WITH_RESPONSE,
  Status,
  encodeCommand,
  errorCommentValue,
  hasDataSet,
  type DimseCommand,
} from './dimse-command.js';
import { MessageAssembler, type MessageError } from './message-assembler.js';
import { MessageDeadline, type MessageDeadlineExpiry } from './message-deadline.js';
import { buildAcceptance, rejection, rejectionFor, type AcceptedContext, type RejectionReason } from './negotiation.js';
import type { AAssociateRq } from './pdu.js';
import type { StoreHandler } from './store-handler.js';
import { UpperLayer, type EndedBy } from './upper-layer.js';

export interface AssociationOptions {
  aeTitles: readonly string[];
  isCallerAllowed?: (callingAeTitle: string, peerAddress: string) => boolean;
  maxPduLength: number;
  headerCapBytes: number;
  artimTimeoutMs: number;
  /** Sta2 ARTIM: the wait for the whole A-ASSOCIATE-RQ (default artimTimeoutMs). */
  associateRequestTimeoutMs?: number;
  idleTimeoutMs: number;
  /** A DIMSE message must complete within messageTimeoutMs + its bytes / minTransferRate (bytes per second). */
  messageTimeoutMs: number;
  minTransferRate: number;
  transferSyntaxPreference?: readonly string[];
  onStore: StoreHandler;
}

export interface AssociationParties {
  callingAeTitle: string;
  calledAeTitle: string;
  peerAddress: string;
}

export interface AssociationSummary extends AssociationParties {
  instances: number;
  bytes: number;
  durationMs: number;
  endedBy: EndedBy;
}

/** One C-STORE answered: its status, and what identifies it (no patient data). */
export interface CStoreResult {
  status: number;
  bytes: number;
  sopClassUid: string;
  sopInstanceUid?: string;
  callingAeTitle: string;
  errorComment?: string;
}

/** What the association reports to the SCP (which turns it into events). */
export interface AssociationObserver {
  /** Decide congestion at A-ASSOCIATE time; true when no slot is free (overall, or for this calling AE). */
  isCongested(callingAeTitle: string): boolean;
  accepted(parties: AssociationParties): void;
  rejected(reason: RejectionReason, parties: AssociationParties): void;
  cStore(result: CStoreResult): void;
  /** Only for associations that were accepted. */
  closed(summary: AssociationSummary): void;
  /** The association is over (Sta13): its slot is free, while the transport may linger until it closes. */
  slotFreed(): void;
  /** Every connection, accepted or not, at its end. */
  released(): void;
}

/** A DIMSE request being received: its command, context and, for C-STORE, the sink. */
interface Message {
  command: DimseCommand;
  context: AcceptedContext;
  sink?: DatasetHeaderSink;
  /** A status already decided (e.g. DatasetError from write): the rest of the data set is discarded. */
  failure?: { status: number; errorComment: string };
  bytes: number;
  /** The UIDs the instance was stored under, when they are not the command's (command-uids.ts): the response names them. */
  storedAs?: { sopClassUid: string; sopInstanceUid: string };
  /** The header was looked at for an early commit (done once per message). */
  headerSeen?: boolean;
  /** The handler's outcome for the record committed at the header (never rejects). */
  stored?: Promise<Outcome>;
}

interface Outcome {
  status: number;
  errorComment?: string;
}

export class Association implements AdmittedConnection {
  private readonly ul: UpperLayer;
  private readonly deadline: MessageDeadline;
  private parties: AssociationParties;
  private contexts = new Map<number, AcceptedContext>();
  private wasAccepted = false;
  private readonly assembler: MessageAssembler;
  /** The request whose data set is being received. */
  private message: Message | undefined;
  /** A whole request is being handled (store, then answer); reading is paused meanwhile. */
  private busy = false;
  private releaseWhenIdle = false;
  private instances = 0;
  private bytes = 0;
  private readonly startedAt = Date.now();
  private logger: Logger;

  constructor(
    private readonly transport: Duplex & { remoteAddress?: string; remotePort?: number },
    private readonly options: AssociationOptions,
    private readonly observer: AssociationObserver,
    logger: Logger,
  ) {
    const peerAddress = normalizeAddress(transport.remoteAddress);
    this.parties = { callingAeTitle: '', calledAeTitle: '', peerAddress };
    this.logger = logger;
    this.assembler = new MessageAssembler(
      {
        onCommand: (contextId, command) => this.onCommand(this.contexts.get(contextId)!, command),
        onDataSetFragment: (data, last) => this.onDataSetFragment(data, last),
        onMessageError: (error) => this.onMessageError(error),
      },
      (contextId) => this.contexts.has(contextId),
    );
    this.deadline = new MessageDeadline(options.messageTimeoutMs, options.minTransferRate, (expiry) => this.onMessageTooSlow(expiry));
    this.ul = new UpperLayer(
      transport,
      {
        maxPduLength: options.maxPduLength,
        artimTimeoutMs: options.artimTimeoutMs,
        ...(options.associateRequestTimeoutMs !== undefined ? { associateRequestTimeoutMs: options.associateRequestTimeoutMs } : {}),
        idleTimeoutMs: options.idleTimeoutMs,
        logger,
      },
      {
        onIndication: (ind) => this.onIndication(ind),
        onPdvData: (id, mch, data, complete) => {
          // Sta7 (we asked to release): P-DATA is not answered, so not taken.
          if (this.ul.state === 'Sta6') this.onPdv(id, mch, data, complete);
        },
        onProviderRejected: (rq) => {
          this.parties = { ...this.parties, callingAeTitle: rq.callingAeTitle, calledAeTitle: rq.calledAeTitle };
          this.logger.info({ reason: 'protocol-version', protocolVersion: rq.protocolVersion }, 'association rejected');
          this.observer.rejected('protocol-version', this.parties);
        },
        onClosing: () => this.observer.slotFreed(),
        onClosed: (endedBy) => this.onClosed(endedBy),
      },
    );
  }

  start(): void {
    this.ul.start();
  }

  get accepted(): boolean {
    return this.wasAccepted;
  }

  get upperLayerState(): string {
    return this.ul.state;
  }

  /** The peer's IP address (IPv4-mapped IPv6 as IPv4). */
  get address(): string {
    return this.parties.peerAddress;
  }

  /** Which connection pool this is in (./connection-admission.ts). */
  get phase(): ConnectionPhase {
    const state = this.ul.state;
    if (state === 'Sta2') return 'pending';
    if (state === 'Sta13' || state === 'Sta1') return 'closing';
    return 'associated';
  }

  /** Graceful shutdown: A-RELEASE-RQ now if no message is in progress, else right after its response. */
  release(): void {
    if (!this.wasAccepted) {
      this.ul.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'abort-sent');
      return;
    }
    this.releaseWhenIdle = true;
    if (!this.assembler.receiving && !this.busy) this.ul.requestRelease();
  }

  abort(endedBy: EndedBy = 'abort-sent'): void {
    this.ul.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, endedBy);
  }

  // ---- ACSE

  private onIndication(ind: Indication): void {
    switch (ind.kind) {
      case 'A-ASSOCIATE indication':
        this.onAssociateRq(ind.rq);
        return;
      case 'A-RELEASE indication':
        // Reading is paused while a message is handled, so a release request is only seen between messages.
        this.ul.releaseResponse();
        return;
      case 'A-RELEASE confirmation':
        return;
      case 'A-ABORT indication':
        this.logger.debug({ source: ind.source, reason: ind.reason }, 'A-ABORT received');
        return;
      case 'A-P-ABORT indication':
        if (ind.detail !== undefined && this.ul.state !== 'Sta1') this.logger.warn({ reason: ind.reason, detail: ind.detail }, 'association aborted: protocol error');
        return;
      default:
        return;
    }
  }

  private onAssociateRq(rq: AAssociateRq): void {
    this.parties = { ...this.parties, callingAeTitle: rq.callingAeTitle, calledAeTitle: rq.calledAeTitle };
    const reason = rejectionFor(rq, this.parties.peerAddress, {
      aeTitles: this.options.aeTitles,
      ...(this.options.isCallerAllowed ? { isCallerAllowed: this.options.isCallerAllowed } : {}),
      congested: (callingAeTitle) => this.observer.isCongested(callingAeTitle),
    });
    if (reason !== undefined) {
      this.logger.info({ reason, callingAeTitle: rq.callingAeTitle, calledAeTitle: rq.calledAeTitle }, 'association rejected');
      this.observer.rejected(reason, this.parties);
      this.ul.rejectAssociation(rejection(reason));
      return;
    }
    const { ac, accepted } = buildAcceptance(rq, {
      maxPduLength: this.options.maxPduLength,
      ...(this.options.transferSyntaxPreference ? { transferSyntaxPreference: this.options.transferSyntaxPreference } : {}),
    });
    this.contexts = accepted;
    this.wasAccepted = true;
    this.observer.accepted(this.parties);
    this.logger.debug({ contexts: rq.presentationContexts.length, accepted: accepted.size }, 'association accepted');
    this.ul.acceptAssociation(ac, rq.userInformation.maximumLength ?? 0);
  }

  // ---- DIMSE message reception

  /** A piece of a PDV in Sta6: into the assembler, under the deadline of the message it belongs to. */
  private onPdv(contextId: number, messageControlHeader: number, data: Buffer, pdvComplete: boolean): void {
    if (!this.assembler.receiving) {
      this.deadline.start();
      this.ul.setMessageInProgress(true);
    }
    this.deadline.received(data.length);
    this.assembler.push(contextId, messageControlHeader, data, pdvComplete);
    if (!this.assembler.receiving && this.deadline.inProgress) {
      this.deadline.stop();
      this.ul.setMessageInProgress(false);
    }
  }

  /** A peer sending slower than the minimum rate (issue 22: a byte now and then kept an association for ever). */
  private onMessageTooSlow(expiry: MessageDeadlineExpiry): void {
    this.logger.warn(
      {
        callingAeTitle: this.parties.callingAeTitle,
        peerAddress: this.parties.peerAddress,
        bytes: expiry.bytes,
        elapsedMs: expiry.elapsedMs,
        messageTimeoutMs: this.options.messageTimeoutMs,
        minTransferRate: this.options.minTransferRate,
      },
      'association aborted: DIMSE message slower than the minimum transfer rate',
    );
    this.dropMessage();
    this.ul.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'timeout');
  }

  private protocolError(detail: string, reason: AbortReason = AbortReason.InvalidPduParameterValue): void {
    this.logger.warn({ detail }, 'association aborted: protocol error');
    this.dropMessage();
    this.ul.abort(AbortSource.ServiceProvider, reason, 'abort-sent');
  }

  private onMessageError(error: MessageError): void {
    this.protocolError(error.detail);
  }

  /** A data set piece of the request in `message`: counted, and written to its sink unless already failed. */
  private onDataSetFragment(data: Buffer, last: boolean): void {
    const msg = this.message;
    // A command this SCP takes without a data set (C-CANCEL-RQ) announced one anyway.
    if (msg === undefined) return this.protocolError('data fragment without a command expecting one');
    msg.bytes += data.length;
    if (msg.sink !== undefined && msg.failure === undefined && data.length > 0) {
      try {
        msg.sink.write(data);
      } catch (err) {
        msg.failure = failureOf(err);
      }
      if (msg.headerSeen !== true && msg.failure === undefined && msg.sink.headerRead) this.storeAtHeader(msg, msg.sink);
      // Deflated: no more reading while the inflater is behind (issue 21: deflate flood).
      if (msg.failure === undefined && msg.sink.backlogged(() => this.inflaterCaughtUp(msg))) this.ul.pauseReading();
    }
    if (last) this.onDataSetComplete(msg);
  }

  /**
   * The header is read while the pixel data still streams in: the record is
   * complete, so its durable commit starts now and overlaps the rest of the
   * transfer (issue 20: the fsync no longer follows the last byte). The
   * C-STORE-RSP still waits for both the commit and the end of the message,
   * and is a success only if both succeeded (completeStore).
   *
   * A record committed here and then never acknowledged (association aborted
   * mid-pixel-data, data set invalid after its header) is kept, not taken
   * back. Taking it back could not be made exact: the aggregator may already
   * have merged it, and the same state already exists without the early
   * commit (an abort between commit and response, a response lost on the
   * wire). Keeping it is right for a bridge beside the PACS: the record holds
   * only header attributes, which name an instance the sender (or the PACS
   * it forwards for) holds; a sender that got no success sends it again and
   * the merge by SOP Instance UID makes that a no-op. What is never allowed
   * is the reverse: a success for a record that is not durable.
   */
  private storeAtHeader(msg: Message, sink: DatasetHeaderSink): void {
    msg.headerSeen = true;
    const record = sink.headerRecord(this.receipt(new Date().toISOString()));
    if (record === undefined) return; // the header could not be read: finish() says why
    const refusal = this.identify(msg, record);
    if (refusal !== undefined) {
      // The rest of the data set is discarded; nothing was committed.
      msg.failure = { status: refusal.status, errorComment: refusal.errorComment ?? '' };
      return;
    }
    msg.stored = this.store(record);
  }

  /**
   * Undefined when the instance may be stored under the UIDs it names (command-uids.ts; msg.storedAs
   * set when those are the data set's because the command's are no UIDs), else the refusal to answer.
   */
  private identify(msg: Message, record: InstanceRecord): Outcome | undefined {
    const identity = storeIdentity(msg.command, msg.context.abstractSyntax, record.instance);
    if ('status' in identity) return identity;
    if (identity.fromDataSet) {
      msg.storedAs = { sopClassUid: identity.sopClassUid, sopInstanceUid: identity.sopInstanceUid };
      this.logger.warn(
        { commandSopClassUid: msg.command.affectedSopClassUid, commandSopInstanceUid: msg.command.affectedSopInstanceUid, ...msg.storedAs },
        "C-STORE command UIDs are no UIDs: stored and answered under the data set's",
      );
    }
    return undefined;
  }

  /** The handler's outcome as a status; a handler error is A700H (the sender keeps the instance). */
  private async store(record: InstanceRecord): Promise<Outcome> {
    try {
      const outcome = await this.options.onStore(record);
      return outcome ?? { status: Status.Success };
    } catch (err) {
      return { status: Status.OutOfResources, errorComment: `Not stored: ${errorMessage(err)}` };
    }
  }

  private receipt(receivedAt: string): Omit<ReceiptData, 'transferSyntaxUid' | 'bytesReceived'> {
    return {
      callingAeTitle: this.parties.callingAeTitle,
      calledAeTitle: this.parties.calledAeTitle,
      peerAddress: this.parties.peerAddress,
      ...(this.transport.remotePort !== undefined ? { peerPort: this.transport.remotePort } : {}),
      receivedAt,
    };
  }

  /** Reading resumes once the inflater caught up, unless the message is complete (then its answer resumes it) or gone. */
  private inflaterCaughtUp(msg: Message): void {
    if (this.message === msg && !this.busy && this.ul.state === 'Sta6') this.ul.resumeReading();
  }

  private onCommand(context: AcceptedContext, command: DimseCommand): void {
    const message: Message = { command, context, bytes: 0 };
    switch (command.commandField) {
      case CommandField.C_ECHO_RQ:
        break;
      case CommandField.C_STORE_RQ:
        // A command SOP Class UID that is no UID is checked against the data set's instead (command-uids.ts).
        if (context.abstractSyntax === VERIFICATION_SOP_CLASS || !commandSopClassFits(command.affectedSopClassUid, context.abstractSyntax))
          message.failure = { status: Status.SopClassNotSupported, errorComment: 'SOP Class differs from the presentation context' };
        else if (hasDataSet(command)) {
          try {
            message.sink = new DatasetHeaderSink({
              transferSyntaxUid: context.transferSyntax,
              headerCapBytes: this.options.headerCapBytes,
              logger: this.logger,
            });
          } catch (err) {
            message.failure = failureOf(err);
          }
        } else message.failure = { status: Status.CannotUnderstand, errorComment: 'C-STORE-RQ without a data set' };
        break;
      case CommandField.C_CANCEL_RQ:
        this.logger.debug('C-CANCEL-RQ ignored: nothing to cancel');
        return;
      default:
        if (!REQUESTS_WITH_RESPONSE.has(command.commandField)) {
          this.logger.warn({ commandField: command.commandField }, 'association aborted: unrecognized DIMSE command');
          this.ul.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'abort-sent');
          return;
        }
        message.failure = { status: Status.UnrecognizedOperation, errorComment: 'Operation not supported by this SCP' };
    }
    // With a data set, the assembler now delivers it to onDataSetFragment.
    if (hasDataSet(command)) this.message = message;
    else this.answer(message);
  }

  private onDataSetComplete(msg: Message): void {
    this.busy = true;
    this.message = undefined;
    this.ul.pauseReading();
    const receivedAt = new Date().toISOString();
    void this.completeStore(msg, receivedAt);
  }

  /** Finish the data set, check it, hand it over (unless done at the header), and only then answer. */
  private async completeStore(msg: Message, receivedAt: string): Promise<void> {
    let status: number = Status.Success;
    let errorComment: string | undefined;
    if (msg.failure !== undefined) ({ status, errorComment } = msg.failure);
    else if (msg.command.commandField === CommandField.C_STORE_RQ && msg.sink !== undefined) {
      let record: InstanceRecord | undefined;
      try {
        record = await msg.sink.finish(this.receipt(receivedAt));
      } catch (err) {
        ({ status, errorComment } = failureOf(err));
      }
      if (msg.stored !== undefined) {
        const outcome = await msg.stored;
        if (record === undefined) {
          // Invalid after its header: the failure is answered; the committed record stays (see storeAtHeader).
          if (isAccepted(outcome.status)) this.logger.warn(keptFields(msg, status), 'data set invalid after its header: answered with a failure, its record (committed at the header) kept');
        } else ({ status, errorComment } = outcome);
      } else if (record !== undefined) {
        const refusal = this.identify(msg, record);
        if (refusal !== undefined) ({ status, errorComment } = refusal);
        else ({ status, errorComment } = await this.store(record));
      }
    }
    const isStore = msg.command.commandField === CommandField.C_STORE_RQ;
    if (isStore) {
      if (isAccepted(status)) this.instances++;
      this.bytes += msg.bytes;
    }
    // Answered first, reported after: the sender's next C-STORE does not wait for the metrics (issue 20);
    // reading resumes last (it may end the association at once, whose summary counts this message).
    const answering = this.ul.state === 'Sta6'; // else aborted or closed meanwhile: nothing to answer
    if (answering) this.answer(msg, { status, ...(errorComment !== undefined ? { errorComment } : {}) });
    if (isStore) {
      this.observer.cStore({
        status,
        bytes: msg.bytes,
        ...answeredUids(msg),
        callingAeTitle: this.parties.callingAeTitle,
        ...(errorComment !== undefined ? { errorComment } : {}),
      });
    }
    if (answering) this.ul.resumeReading();
  }

  /** Sends the response of a request; for C-ECHO and failures decided before any handler. */
  private answer(msg: Message, outcome: { status: number; errorComment?: string } = msg.failure ?? { status: Status.Success }): void {
    const rq = msg.command;
    const uids = answeredUids(msg);
    const rsp: DimseCommand = {
      commandField: rq.commandField | 0x8000,
      messageIdBeingRespondedTo: rq.messageId ?? 0,
      commandDataSetType: NO_DATA_SET,
      status: outcome.status,
      ...(outcome.status !== Status.Success && outcome.errorComment ? { errorComment: errorCommentValue(outcome.errorComment) } : {}),
      // Stored under the data set's UIDs (command-uids.ts): the response names those, so a success names a record.
      affectedSopClassUid: uids.sopClassUid,
      ...(uids.sopInstanceUid !== undefined ? { affectedSopInstanceUid: uids.sopInstanceUid } : {}),
    };
    this.ul.sendMessagePart(msg.context.id, true, encodeCommand(rsp));
    this.busy = false;
    if (this.releaseWhenIdle && this.ul.state === 'Sta6') this.ul.requestRelease();
  }

  private dropMessage(): void {
    const msg = this.message;
    // Committed at its header, never answered: kept (see storeAtHeader); said once it is settled.
    void msg?.stored?.then((outcome) => {
      if (isAccepted(outcome.status)) this.logger.info(keptFields(msg), 'C-STORE not completed: its record (committed at the header) kept, not acknowledged');
    });
    msg?.sink?.dispose(); // a deflated data set stops inflating with its association
    this.message = undefined;
    this.assembler.reset();
  }

  private onClosed(endedBy: EndedBy): void {
    this.deadline.dispose();
    this.dropMessage();
    if (this.wasAccepted) {
      const summary: AssociationSummary = {
        ...this.parties,
        instances: this.instances,
        bytes: this.bytes,
        durationMs: Date.now() - this.startedAt,
        endedBy,
      };
      this.logger.info(summary, 'association ended');
      this.observer.closed(summary);
    }
    this.observer.released();
  }
}


/** The UIDs a request is answered (and reported) under: those it was stored under, else the command's. */
function answeredUids(msg: Message): { sopClassUid: string; sopInstanceUid?: string } {
  if (msg.storedAs) return msg.storedAs;
  const { affectedSopClassUid, affectedSopInstanceUid } = msg.command;
  return { sopClassUid: affectedSopClassUid ?? msg.context.abstractSyntax, ...(affectedSopInstanceUid !== undefined ? { sopInstanceUid: affectedSopInstanceUid } : {}) };
}

/** What identifies a kept, unacknowledged record in the log (UIDs, no patient data). */
function keptFields(msg: Message, status?: number): Record<string, unknown> {
  return {
    ...answeredUids(msg),
    bytes: msg.bytes,
    ...(status !== undefined ? { status: `${status.toString(16).toUpperCase().padStart(4, '0')}H` } : {}),
  };
}

/** 0000 success and B-range warnings: the instance was taken. */
function isAccepted(status: number): boolean {
  return status === Status.Success || (status & 0xf000) === 0xb000;
}

function failureOf(err: unknown): { status: number; errorComment: string } {
  if (err instanceof DatasetError) return { status: err.status, errorComment: err.message };
  return { status: Status.OutOfResources, errorComment: `Not stored: ${errorMessage(err)}` };
}

export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
