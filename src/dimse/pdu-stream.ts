/**
 * Streaming PDU reader: one pass over the received chunks. PDU and PDV
 * headers (6 bytes each) are assembled from the chunks; the small PDUs of
 * association, release and abort are collected whole (bounded by
 * `maxOtherPduLength`); the PDV data of a P-DATA-TF is handed on as
 * `subarray` views of the received chunks, never copied or concatenated
 * (bytes queued while paused are copied: a pushed chunk may be a read
 * buffer that is reused once push() returns).
 * A length header above the limits is reported at once, before any of its
 * body is buffered.
 */
import { PDU_HEADER_LENGTH, PDV_HEADER_LENGTH, PduType } from './pdu.js';
import { AbortReason } from './bytes.js';

export interface PduStreamLimits {
  /** Largest P-DATA-TF PDU body accepted: the maximum length we announced. */
  maxPDataLength: number;
  /** Largest body of any other PDU (A-ASSOCIATE-RQ with many contexts is the big one). */
  maxOtherPduLength: number;
}

export interface PduStreamHandler {
  /** A whole non-P-DATA PDU. */
  onPdu(type: number, body: Buffer): void;
  /** The header of a P-DATA-TF; return true to receive its PDVs, false to skip its body. */
  onPDataStart(length: number): boolean;
  /**
   * A piece of one PDV's data; `pdvComplete` on the last piece of that PDV
   * (the whole PDV may come as several pieces when it spans received chunks).
   * `data` is a view of the pushed chunk, valid only during the call.
   */
  onPdvData(presentationContextId: number, messageControlHeader: number, data: Buffer, pdvComplete: boolean): void;
  /** Framing error: the stream cannot be followed any more. */
  onStreamError(message: string, reason: AbortReason): void;
}

const enum Mode {
  PduHeader,
  Body,
  PdvHeader,
  PdvData,
  SkipBody,
  Stopped,
}

const EMPTY = Buffer.alloc(0);

export class PduStreamReader {
  private mode = Mode.PduHeader;
  private readonly header = Buffer.alloc(PDU_HEADER_LENGTH);
  private headerFill = 0;
  private pduType = 0;
  private body: Buffer = EMPTY;
  private bodyFill = 0;
  /** Bytes of the current P-DATA-TF not yet consumed. */
  private pduRemaining = 0;
  private pdvRemaining = 0;
  private pdvContextId = 0;
  private pdvMch = 0;
  private paused = false;
  private readonly queue: Buffer[] = [];

  constructor(
    private readonly limits: PduStreamLimits,
    private readonly handler: PduStreamHandler,
  ) {}

  /** Stop delivering after the current callback; the rest is kept until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    while (!this.paused && this.queue.length > 0) {
      const chunk = this.queue.shift()!;
      this.process(chunk);
    }
  }

  /** Ignore everything from now on (after an abort). */
  stop(): void {
    this.mode = Mode.Stopped;
    this.queue.length = 0;
    this.body = EMPTY;
  }

  get stopped(): boolean {
    return this.mode === Mode.Stopped;
  }

  push(chunk: Buffer): void {
    if (this.mode === Mode.Stopped) return;
    if (this.paused) this.queue.push(Buffer.from(chunk));
    else this.process(chunk);
  }

  private process(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      if (this.paused) {
        // Copied: the chunk may be a read buffer the transport reuses after this call.
        this.queue.unshift(Buffer.from(chunk.subarray(off)));
        return;
      }
      switch (this.mode) {
        case Mode.Stopped:
          return;
        case Mode.PduHeader: {
          const take = Math.min(PDU_HEADER_LENGTH - this.headerFill, n - off);
          chunk.copy(this.header, this.headerFill, off, off + take);
          this.headerFill += take;
          off += take;
          if (this.headerFill === PDU_HEADER_LENGTH) {
            this.headerFill = 0;
            this.startPdu();
          }
          break;
        }
        case Mode.Body: {
          const take = Math.min(this.body.length - this.bodyFill, n - off);
          chunk.copy(this.body, this.bodyFill, off, off + take);
          this.bodyFill += take;
          off += take;
          if (this.bodyFill === this.body.length) this.endBody();
          break;
        }
        case Mode.SkipBody: {
          const take = Math.min(this.pduRemaining, n - off);
          this.pduRemaining -= take;
          off += take;
          if (this.pduRemaining === 0) this.mode = Mode.PduHeader;
          break;
        }
        case Mode.PdvHeader: {
          const take = Math.min(PDV_HEADER_LENGTH - this.headerFill, n - off);
          chunk.copy(this.header, this.headerFill, off, off + take);
          this.headerFill += take;
          off += take;
          if (this.headerFill === PDV_HEADER_LENGTH) {
            this.headerFill = 0;
            this.startPdv();
          }
          break;
        }
        case Mode.PdvData: {
          const take = Math.min(this.pdvRemaining, n - off);
          this.pdvRemaining -= take;
          this.pduRemaining -= take;
          const view = chunk.subarray(off, off + take);
          off += take;
          const complete = this.pdvRemaining === 0;
          if (complete) this.mode = this.pduRemaining === 0 ? Mode.PduHeader : Mode.PdvHeader;
          this.handler.onPdvData(this.pdvContextId, this.pdvMch, view, complete);
          break;
        }
      }
    }
  }

  private fail(message: string, reason: AbortReason): void {
    this.stop();
    this.handler.onStreamError(message, reason);
  }

  private startPdu(): void {
    const type = this.header[0]!;
    const length = this.header.readUInt32BE(2);
    if (type < PduType.AAssociateRq || type > PduType.AAbort) {
      this.fail(`unrecognized PDU type 0x${type.toString(16).padStart(2, '0')}`, AbortReason.UnrecognizedPdu);
      return;
    }
    if (type === PduType.PDataTf) {
      if (length > this.limits.maxPDataLength) {
        this.fail(`P-DATA-TF length ${length} exceeds the announced maximum ${this.limits.maxPDataLength}`, AbortReason.InvalidPduParameterValue);
        return;
      }
      this.pduRemaining = length;
      const deliver = this.handler.onPDataStart(length);
      if (this.mode === Mode.Stopped) return;
      if (length === 0) this.mode = Mode.PduHeader;
      else this.mode = deliver ? Mode.PdvHeader : Mode.SkipBody;
      return;
    }
    if (length > this.limits.maxOtherPduLength) {
      this.fail(`PDU type 0x${type.toString(16)} length ${length} exceeds ${this.limits.maxOtherPduLength}`, AbortReason.InvalidPduParameterValue);
      return;
    }
    this.pduType = type;
    this.body = Buffer.allocUnsafe(length);
    this.bodyFill = 0;
    this.mode = Mode.Body;
    if (length === 0) this.endBody();
  }

  private endBody(): void {
    const body = this.body;
    this.body = EMPTY;
    this.mode = Mode.PduHeader;
    this.handler.onPdu(this.pduType, body);
  }

  private startPdv(): void {
    const itemLength = this.header.readUInt32BE(0);
    this.pduRemaining -= PDV_HEADER_LENGTH;
    if (this.pduRemaining < 0 || itemLength < 2 || itemLength - 2 > this.pduRemaining) {
      this.fail(`PDV item length ${itemLength} does not fit its P-DATA-TF`, AbortReason.InvalidPduParameterValue);
      return;
    }
    this.pdvContextId = this.header[4]!;
    this.pdvMch = this.header[5]!;
    this.pdvRemaining = itemLength - 2;
    if (this.pdvRemaining === 0) {
      this.mode = this.pduRemaining === 0 ? Mode.PduHeader : Mode.PdvHeader;
      this.handler.onPdvData(this.pdvContextId, this.pdvMch, EMPTY, true);
    } else this.mode = Mode.PdvData;
  }
}
