/**
 * DIMSE messages from received PDVs (PS3.7 Section 9.3.1, PS3.8 Annex E):
 * a message is its command set, as one or more command fragments, then, when
 * the command's Command Data Set Type (0000,0800) announces one, its data set
 * as data fragments. Each PDV's message control header says command or data
 * and marks the last fragment; all fragments of a message travel on the
 * presentation context of its command.
 *
 * One assembler per association, shared by both service users: the SCP
 * (./association.ts) takes the data set fragment by fragment as it arrives
 * and streams it on (nothing is copied or buffered here); the SCU
 * (./scu-association.ts) takes whole messages through `WholeMessages`, which
 * collects a response's data set (a C-FIND identifier, say) in memory.
 * Anything else is a message error, reported once; the association aborts.
 */
import { COMMAND_SET_CAP_BYTES } from './constants.js';
import { DimseDecodeError, decodeCommand, hasDataSet, type DimseCommand } from './dimse-command.js';
import { MessageControlHeader } from './pdu.js';

export type MessageErrorKind =
  | 'context-not-accepted'
  | 'command-during-data-set'
  | 'command-context-changed'
  | 'command-set-too-large'
  | 'bad-command-set'
  | 'data-without-command'
  | 'data-set-context-changed'
  | 'data-set-too-large';

export interface MessageError {
  kind: MessageErrorKind;
  /** For logs and error messages. */
  detail: string;
}

export interface MessageAssemblerUser {
  /** A whole command set, decoded. When `hasDataSet(command)`, the data set's fragments follow. */
  onCommand(presentationContextId: number, command: DimseCommand): void;
  /**
   * The next piece of the data set, `last` on its final piece. `data` is a
   * view of the read buffer, valid only during the call: copy what is kept.
   */
  onDataSetFragment(data: Buffer, last: boolean): void;
  /** The peer broke the message framing; the message in progress is dropped. */
  onMessageError(error: MessageError): void;
}

type Phase = 'idle' | 'command' | 'data-set';

export class MessageAssembler {
  private phase: Phase = 'idle';
  /** The presentation context of the message in progress. */
  private contextId = 0;
  /** Command fragments before the last one (copies: the read buffer is reused). */
  private readonly commandParts: Buffer[] = [];
  private commandBytes = 0;

  constructor(
    private readonly user: MessageAssemblerUser,
    /** Whether a presentation context id was accepted on this association. */
    private readonly isAccepted: (presentationContextId: number) => boolean,
  ) {}

  /** A message is partly received: some of its command set, or its command set and not all its data set. */
  get receiving(): boolean {
    return this.phase !== 'idle';
  }

  /**
   * One piece of a PDV as the upper layer hands it on: its context id,
   * message control header, data, and whether it is the PDV's last piece.
   */
  push(presentationContextId: number, messageControlHeader: number, data: Buffer, pdvComplete: boolean): void {
    if (!this.isAccepted(presentationContextId))
      return this.fail('context-not-accepted', `PDV for presentation context ${presentationContextId}, which is not accepted`);
    const last = pdvComplete && (messageControlHeader & MessageControlHeader.LastFragment) !== 0;
    if ((messageControlHeader & MessageControlHeader.Command) !== 0) return this.commandFragment(presentationContextId, data, last);
    if (this.phase !== 'data-set') return this.fail('data-without-command', 'data fragment without a command expecting one');
    if (presentationContextId !== this.contextId) return this.fail('data-set-context-changed', 'data set on another presentation context than its command');
    if (last) this.phase = 'idle';
    this.user.onDataSetFragment(data, last);
  }

  /** Drops the message in progress (the association ended). */
  reset(): void {
    this.phase = 'idle';
    this.commandParts.length = 0;
    this.commandBytes = 0;
  }

  private commandFragment(contextId: number, data: Buffer, last: boolean): void {
    if (this.phase === 'data-set') return this.fail('command-during-data-set', 'command fragment while a data set was expected');
    if (this.phase === 'idle') {
      this.phase = 'command';
      this.contextId = contextId;
    } else if (contextId !== this.contextId) return this.fail('command-context-changed', 'command fragments on two presentation contexts');
    this.commandBytes += data.length;
    if (this.commandBytes > COMMAND_SET_CAP_BYTES) return this.fail('command-set-too-large', `command set larger than ${COMMAND_SET_CAP_BYTES} bytes`);
    if (!last) {
      this.commandParts.push(Buffer.from(data));
      return;
    }
    // A command set in one piece (the usual case) is decoded in place: decodeCommand keeps no reference to it.
    const raw = this.commandParts.length === 0 ? data : Buffer.concat([...this.commandParts, data]);
    this.commandParts.length = 0;
    this.commandBytes = 0;
    let command: DimseCommand;
    try {
      command = decodeCommand(raw);
    } catch (err) {
      if (err instanceof DimseDecodeError) return this.fail('bad-command-set', `bad command set: ${err.message}`);
      throw err;
    }
    // The phase is set before the user hears of the command, which may answer it at once.
    this.phase = hasDataSet(command) ? 'data-set' : 'idle';
    this.user.onCommand(contextId, command);
  }

  private fail(kind: MessageErrorKind, detail: string): void {
    this.reset();
    this.user.onMessageError({ kind, detail });
  }
}

/** A whole received DIMSE message. */
export interface DimseMessage {
  presentationContextId: number;
  command: DimseCommand;
  /** The data set, when the command announces one (its bytes in the context's transfer syntax). */
  dataSet?: Buffer;
}

export interface WholeMessageHandler {
  onMessage(message: DimseMessage): void;
  onMessageError(error: MessageError): void;
}

/**
 * A MessageAssemblerUser that hands on whole messages, each data set
 * collected in memory up to `dataSetCapBytes`: for the SCU, whose responses
 * carry small data sets (C-FIND identifiers), never pixel data.
 */
export class WholeMessages implements MessageAssemblerUser {
  private pending: { presentationContextId: number; command: DimseCommand } | undefined;
  private readonly parts: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly handler: WholeMessageHandler,
    private readonly dataSetCapBytes: number,
  ) {}

  onCommand(presentationContextId: number, command: DimseCommand): void {
    if (hasDataSet(command)) this.pending = { presentationContextId, command };
    else this.handler.onMessage({ presentationContextId, command });
  }

  onDataSetFragment(data: Buffer, last: boolean): void {
    const pending = this.pending;
    if (pending === undefined) return; // the rest of a data set already refused as too large
    this.bytes += data.length;
    if (this.bytes > this.dataSetCapBytes) {
      this.clear();
      this.handler.onMessageError({ kind: 'data-set-too-large', detail: `data set larger than ${this.dataSetCapBytes} bytes` });
      return;
    }
    if (data.length > 0) this.parts.push(Buffer.from(data));
    if (!last) return;
    const dataSet = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.clear();
    this.handler.onMessage({ ...pending, dataSet });
  }

  onMessageError(error: MessageError): void {
    this.clear();
    this.handler.onMessageError(error);
  }

  private clear(): void {
    this.pending = undefined;
    this.parts.length = 0;
    this.bytes = 0;
  }
}
