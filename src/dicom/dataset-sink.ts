/**
 * Receives the fragments of one C-STORE dataset as they arrive (PS3.7 9.3.1,
 * PS3.8 Annex E: P-DATA PDVs, no Part 10 preamble or meta information, in the
 * negotiated transfer syntax), keeps the bytes before the first top-level
 * (7FE0,xxxx) element, counts and drops the rest, and turns the kept header
 * into an InstanceRecord.
 */
import { createInflateRaw, type InflateRaw } from 'node:zlib';
import { pino, type Logger } from 'pino';
import { DatasetStructureError, DatasetWalker } from './dataset-walker.js';
import type { InstanceRecord, ReceiptData } from './instance-record.js';
import { extractAttributes, MissingAttributeError, PARSER_SYNTAX, parseHeader, type ExtractedAttributes } from './record-extractor.js';
import { TRANSFER_SYNTAXES } from './uids.js';

/** C-STORE statuses this module answers with (PS3.4 Table B.2-1). */
export const STATUS_OUT_OF_RESOURCES = 0xa700;
export const STATUS_CANNOT_UNDERSTAND = 0xc000;

/** A dataset the bridge cannot accept; `status` is the C-STORE status to answer. */
export class DatasetError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}

export interface DatasetSinkOptions {
  /** Negotiated transfer syntax of the presentation context. */
  transferSyntaxUid: string;
  /** Most bytes of header (everything before top-level Pixel Data) kept. */
  headerCapBytes: number;
  /** Debug logging, and a warning for a Patient ID kept as its bytes (never patient data). Default: silent. */
  logger?: Logger;
}

/** Below half of Buffer.poolSize: the first allocation is a slice of Node's pool, not a malloc. Most headers fit. */
const INITIAL_CAPACITY = 4000;
let silentLogger: Logger | undefined;

/**
 * Receives the fragments of one C-STORE dataset as they arrive, keeps the
 * bytes before top-level (7FE0,xxxx), discards the rest without buffering.
 */
export class DatasetHeaderSink {
  private received = 0;
  private kept: Buffer = Buffer.alloc(0);
  private keptLength = 0;
  private readonly walker: DatasetWalker;
  private readonly cap: number;
  private readonly transferSyntaxUid: string;
  private readonly parserSyntax: string;
  private readonly log: Logger;
  private readonly inflater: InflateRaw | undefined;
  private inflated: Promise<void> | undefined;
  /** Deflated: the header is read, the rest (pixel data) is only counted, never inflated (issue 21: deflate flood). */
  private inflaterStopped = false;
  /** First error met; later writes are ignored and finish rethrows it. */
  private failure: DatasetError | undefined;
  private finished = false;
  private capReported = false;
  /**
   * The header read as soon as its end (top-level (7FE0,xxxx)) is seen, while
   * the pixel data still streams in: finish() then has little left to do
   * before the C-STORE response goes out. Its error, if any, is reported by
   * finish() after the structure checks, as if read there.
   */
  private header: { attributes: ExtractedAttributes } | { error: DatasetError } | undefined;
  /** The record headerRecord() made (finish() returns it: it is the one committed at the header). */
  private recordAtHeader: InstanceRecord | undefined;

  constructor(options: DatasetSinkOptions) {
    this.cap = options.headerCapBytes;
    this.transferSyntaxUid = options.transferSyntaxUid;
    this.log = options.logger ?? (silentLogger ??= pino({ level: 'silent' }));
    const syntax = TRANSFER_SYNTAXES.get(options.transferSyntaxUid);
    if (!syntax) this.log.debug({ transferSyntaxUid: options.transferSyntaxUid }, 'unknown transfer syntax: read as explicit VR little endian');
    const explicitVr = syntax?.explicitVr ?? true;
    const littleEndian = syntax?.littleEndian ?? true;
    this.parserSyntax = !explicitVr
      ? PARSER_SYNTAX.implicitLittle
      : littleEndian
        ? PARSER_SYNTAX.explicitLittle
        : PARSER_SYNTAX.explicitBig;
    this.walker = new DatasetWalker({ explicitVr, littleEndian });
    if (syntax?.deflated) this.inflater = this.startInflater();
  }

  /** Dataset bytes seen so far (including discarded pixel data). */
  get bytesReceived(): number {
    return this.received;
  }

  /** Whether the header has been read (its end seen): headerRecord() then has the record or finish() the reason. */
  get headerRead(): boolean {
    return this.header !== undefined;
  }

  /** Header bytes kept so far (inflated bytes for a deflated syntax). */
  get keptBytes(): number {
    return this.keptLength;
  }

  /**
   * Feed one PDV fragment. Throws DatasetError (A700) once when the header
   * cap is exceeded; later writes are ignored. Bad structure is reported by
   * finish(), so the SCP reads the rest of the message before answering.
   */
  write(fragment: Buffer): void {
    this.received += fragment.length;
    if (this.finished) return;
    if (!this.failure) {
      // zlib reads the fragment later, and it may be a reused read buffer: a copy.
      if (this.inflater) {
        if (!this.inflaterStopped) this.inflater.write(Buffer.from(fragment));
      } else this.walk(fragment);
    }
    if (this.failure?.status === STATUS_OUT_OF_RESOURCES && !this.capReported) {
      this.capReported = true;
      throw this.failure;
    }
  }

  /**
   * Deflated: whether the inflater is behind (its input buffer full). If so,
   * `caughtUp` is called once it drained or stopped, and the caller should
   * stop reading until then: inflation under the same flow control as the
   * plain path, so memory stays bounded by the header cap plus a PDU.
   */
  backlogged(caughtUp: () => void): boolean {
    const inflater = this.inflater;
    if (inflater === undefined || this.inflaterStopped || inflater.destroyed || !inflater.writableNeedDrain) return false;
    const done = (): void => {
      inflater.off('drain', done);
      inflater.off('close', done);
      caughtUp();
    };
    inflater.once('drain', done);
    inflater.once('close', done);
    return true;
  }

  /** The message was dropped (association ended): release everything, stop inflating. */
  dispose(): void {
    this.finished = true;
    this.kept = Buffer.alloc(0);
    this.keptLength = 0;
    if (this.inflater && !this.inflater.destroyed) this.inflater.destroy();
  }

  /**
   * The record as soon as the header has been read (top-level (7FE0,xxxx)
   * seen), while the pixel data may still be streaming in; undefined before
   * that, after a failure, or when the header could not be read (finish()
   * then reports why). receipt.bytesReceived is the bytes received so far.
   */
  headerRecord(receipt: Omit<ReceiptData, 'transferSyntaxUid' | 'bytesReceived'>): InstanceRecord | undefined {
    const header = this.header;
    if (header === undefined || 'error' in header || this.failure !== undefined) return undefined;
    this.recordAtHeader ??= this.recordOf(header.attributes, receipt);
    return this.recordAtHeader;
  }

  /** After the last fragment: the record. Throws DatasetError for bad data. */
  async finish(receipt: Omit<ReceiptData, 'transferSyntaxUid' | 'bytesReceived'>): Promise<InstanceRecord> {
    if (!this.finished) {
      this.finished = true;
      if (this.inflater && !this.failure && !this.inflaterStopped) {
        this.inflater.end();
        await this.inflated;
      }
    }
    if (this.failure) throw this.failure;
    let complete: boolean;
    try {
      // Deflated pixel data is not inflated, so not checked: the header is complete.
      complete = this.inflaterStopped || this.walker.atTopLevelBoundary;
    } catch (error) {
      throw new DatasetError(STATUS_CANNOT_UNDERSTAND, `cannot parse dataset: ${describe(error)}`.slice(0, 64));
    }
    if (!complete) {
      throw new DatasetError(STATUS_CANNOT_UNDERSTAND, `cannot parse dataset: truncated at ${this.walker.position}`);
    }

    // The record handed out at the header is the one stored: finish() only checks the rest of the data set.
    if (this.recordAtHeader !== undefined) return this.recordAtHeader;
    const header = this.header ?? this.readHeader();
    if ('error' in header) throw header.error;
    return this.recordOf(header.attributes, receipt);
  }

  private recordOf(attributes: ExtractedAttributes, receipt: Omit<ReceiptData, 'transferSyntaxUid' | 'bytesReceived'>): InstanceRecord {
    const record: InstanceRecord = {
      patient: attributes.patient,
      study: attributes.study,
      series: attributes.series,
      instance: attributes.instance,
      receipt: { ...receipt, transferSyntaxUid: this.transferSyntaxUid, bytesReceived: this.received },
    };
    if (attributes.specificCharacterSet !== undefined) record.specificCharacterSet = attributes.specificCharacterSet;
    if (attributes.keyObject !== undefined) record.keyObject = attributes.keyObject;
    return record;
  }

  /** Walks one chunk of (inflated) dataset bytes and keeps its header part. */
  private walk(chunk: Buffer): void {
    const chunkStart = this.walker.position;
    const headerKnown = this.walker.headerEnd >= 0;
    try {
      this.walker.write(chunk);
    } catch (error) {
      const message = error instanceof DatasetStructureError ? error.message : describe(error);
      this.fail(new DatasetError(STATUS_CANNOT_UNDERSTAND, `cannot parse dataset: ${message}`.slice(0, 64)));
      return;
    }
    if (headerKnown) return;
    const headerEnd = this.walker.headerEnd;
    if (headerEnd >= 0 && headerEnd <= chunkStart) {
      // The (7FE0,xxxx) tag started in an earlier chunk: drop its first bytes.
      this.keptLength = Math.min(this.keptLength, headerEnd);
    } else this.keep(chunk, headerEnd >= 0 ? headerEnd - chunkStart : chunk.length);
    if (headerEnd >= 0 && !this.failure) this.header = this.readHeader();
    if (headerEnd >= 0 && this.inflater) {
      this.inflaterStopped = true;
      this.inflater.destroy();
    }
  }

  /** Reads the kept header bytes into the attributes of the record. */
  private readHeader(): { attributes: ExtractedAttributes } | { error: DatasetError } {
    try {
      return { attributes: extractAttributes(parseHeader(this.kept.subarray(0, this.keptLength), this.parserSyntax), this.log) };
    } catch (error) {
      if (error instanceof MissingAttributeError) return { error: new DatasetError(STATUS_CANNOT_UNDERSTAND, error.message) };
      return { error: new DatasetError(STATUS_CANNOT_UNDERSTAND, `cannot parse dataset: ${describe(error)}`.slice(0, 64)) };
    }
  }

  private keep(chunk: Buffer, length: number): void {
    const needed = this.keptLength + length;
    if (needed > this.cap) {
      this.fail(new DatasetError(STATUS_OUT_OF_RESOURCES, `header exceeds ${this.cap} bytes`));
      return;
    }
    if (needed > this.kept.length) {
      let capacity = Math.max(this.kept.length * 2, INITIAL_CAPACITY);
      while (capacity < needed) capacity *= 2;
      const grown = Buffer.allocUnsafe(Math.min(capacity, Math.max(this.cap, needed)));
      this.kept.copy(grown, 0, 0, this.keptLength);
      this.kept = grown;
    }
    chunk.copy(this.kept, this.keptLength, 0, length);
    this.keptLength = needed;
  }

  /** Records the first failure and releases what is held. */
  private fail(error: DatasetError): void {
    this.failure ??= error;
    this.kept = Buffer.alloc(0);
    this.keptLength = 0;
    if (this.inflater && !this.inflater.destroyed) this.inflater.destroy();
  }

  private startInflater(): InflateRaw {
    const inflater = createInflateRaw();
    this.inflated = new Promise<void>((resolve) => {
      inflater.on('data', (chunk: Buffer) => {
        if (!this.failure && !this.inflaterStopped) this.walk(chunk);
      });
      inflater.on('end', resolve);
      inflater.on('close', resolve);
      inflater.on('error', (error: Error) => {
        this.fail(new DatasetError(STATUS_CANNOT_UNDERSTAND, `cannot parse dataset: inflate: ${error.message}`.slice(0, 64)));
        resolve();
      });
    });
    return inflater;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  // dicom-parser throws { exception, dataSet } objects.
  if (error && typeof error === 'object' && 'exception' in error) return describe((error as { exception: unknown }).exception);
  return 'unknown error';
}
