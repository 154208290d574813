/**
 * A raw DICOM peer for the hostile-input tests: a TCP socket that speaks
 * PDUs built with the bridge's own encoders (src/dimse/pdu.ts), so it can
 * send what DCMTK would never send (a UID with a space, a trickled message,
 * a garbled PDU, a deflated stream of any size) and read what comes back.
 */
import { connect, type Socket } from 'node:net';
import { decodeCommand, encodeCommand, type DimseCommand } from '../../src/dimse/dimse-command.js';
import { decodePdu, encodePdu, type AAssociateRq, type Pdu } from '../../src/dimse/pdu.js';
import { emptyUserInformation, type PresentationContextRq } from '../../src/dimse/pdu-items.js';
import { el, encode, EXPLICIT_LE as EXPLICIT_LE_ENCODING } from '../dicom/support/encode.js';

export const VERIFICATION = '1.2.840.10008.1.1';
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_LE = '1.2.840.10008.1.2.1.99';

export function associateRq(calledAeTitle: string, contexts: PresentationContextRq[], callingAeTitle = 'HOSTILE'): AAssociateRq {
  return {
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAeTitle,
    callingAeTitle,
    applicationContextName: '1.2.840.10008.3.1.1.1',
    presentationContexts: contexts,
    userInformation: { ...emptyUserInformation(), maximumLength: 65536, implementationClassUid: '1.2.3.4', implementationVersionName: 'HOSTILE' },
  };
}

/** A P-DATA-TF of one PDV. */
export function pdata(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer): Buffer {
  return encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: contextId, isCommand, isLast, data }] });
}

export function cStoreRq(messageId: number, sopClassUid: string, sopInstanceUid: string): Buffer {
  return encodeCommand({
    commandField: 0x0001,
    messageId,
    affectedSopClassUid: sopClassUid,
    priority: 0,
    commandDataSetType: 0x0000,
    affectedSopInstanceUid: sopInstanceUid,
  });
}

export function cEchoRq(messageId: number): Buffer {
  return encodeCommand({ commandField: 0x0030, messageId, affectedSopClassUid: VERIFICATION, commandDataSetType: 0x0101 });
}

/**
 * A small CT Image data set in Explicit VR Little Endian, no meta
 * information. UID values are written as given (a string padded to even
 * length with a NUL, or raw bytes); pixel data as given (default 64 bytes).
 */
export function ctDataSet(uids: { study: string | Buffer; series: string | Buffer; sop: string | Buffer }, pixelData: Buffer = Buffer.alloc(64)): Buffer {
  const uid = (v: string | Buffer): string | Uint8Array => v;
  return encode(
    [
      el(0x00080016, 'UI', CT_IMAGE_STORAGE),
      el(0x00080018, 'UI', uid(uids.sop)),
      el(0x00080060, 'CS', 'CT'),
      el(0x00100020, 'LO', 'HOSTILE-PID'),
      el(0x0020000d, 'UI', uid(uids.study)),
      el(0x0020000e, 'UI', uid(uids.series)),
      el(0x7fe00010, 'OB', pixelData),
    ],
    EXPLICIT_LE_ENCODING,
  );
}

export class RawPeer {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private waiters: Array<() => void> = [];
  private ended = false;
  /** Every PDU received, decoded (an undecodable one as { type: 'undecodable' }). */
  readonly pdus: Array<Pdu | { type: 'undecodable'; pduType: number }> = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      this.split();
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number, options: { localAddress?: string } = {}): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true, ...options }, () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Writes and waits until the kernel took the bytes (backpressure for large uploads). */
  write(bytes: Buffer): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.socket.write(bytes)) resolve();
      else {
        const done = (): void => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.once('drain', done);
        this.socket.once('close', done);
      }
    });
  }

  /** Waits for the next PDU after the `seen` first ones; undefined when the socket closed first or after timeoutMs. */
  async nextPdu(seen: number, timeoutMs = 10_000): Promise<RawPeer['pdus'][number] | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.pdus.length <= seen && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.pdus[seen];
  }

  /** Sends the A-ASSOCIATE-RQ and returns the answer (AC, RJ, ABORT), or undefined. */
  async associate(rq: AAssociateRq): Promise<Pdu | undefined> {
    const seen = this.pdus.length;
    await this.write(encodePdu(rq));
    return (await this.nextPdu(seen)) as Pdu | undefined;
  }

  /**
   * Sends one DIMSE request (command, then the data set cut into PDVs of at
   * most pdvBytes) and returns the response command, or the PDU that came
   * instead (an A-ABORT), or undefined when the connection closed.
   */
  async request(contextId: number, command: Buffer, dataSet?: Buffer, pdvBytes = 16_000): Promise<DimseCommand | Pdu | undefined> {
    const seen = this.pdus.length;
    await this.write(pdata(contextId, true, true, command));
    if (dataSet !== undefined) {
      for (let off = 0; off < dataSet.length || off === 0; off += pdvBytes) {
        const end = Math.min(dataSet.length, off + pdvBytes);
        await this.write(pdata(contextId, false, end === dataSet.length, dataSet.subarray(off, end)));
        if (end === dataSet.length) break;
      }
    }
    return this.response(seen);
  }

  /** The response command in the PDUs after the `seen` first ones (a command in one PDV, as the bridge sends it). */
  async response(seen: number, timeoutMs = 10_000): Promise<DimseCommand | Pdu | undefined> {
    const pdu = await this.nextPdu(seen, timeoutMs);
    if (pdu === undefined || pdu.type === 'undecodable') return undefined;
    if (pdu.type !== 'P-DATA-TF') return pdu;
    const pdv = pdu.pdvs[0]!;
    return decodeCommand(pdv.data);
  }

  /** A-RELEASE-RQ; once the A-RELEASE-RP is in, the requestor closes the transport (PS3.8 AR-3). Returns the answer's type. */
  async release(): Promise<string | undefined> {
    if (this.socket.destroyed) return undefined;
    const seen = this.pdus.length;
    await this.write(encodePdu({ type: 'A-RELEASE-RQ' }));
    const answer = await this.nextPdu(seen, 5_000);
    this.destroy();
    return answer?.type;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Cuts whole PDUs off the buffered bytes. */
  private split(): void {
    let all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    let off = 0;
    while (all.length - off >= 6) {
      const length = all.readUInt32BE(off + 2);
      if (all.length - off < 6 + length) break;
      const type = all[off]!;
      try {
        this.pdus.push(decodePdu(type, all.subarray(off + 6, off + 6 + length)));
      } catch {
        this.pdus.push({ type: 'undecodable', pduType: type });
      }
      off += 6 + length;
    }
    all = all.subarray(off);
    this.buffered = all.length > 0 ? [all] : [];
    this.bufferedBytes = all.length;
  }
}

export function isCommand(x: DimseCommand | Pdu | undefined): x is DimseCommand {
  return x !== undefined && 'commandField' in x;
}
