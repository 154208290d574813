// Interface placeholder: the implementation replaces this file (owner: dicom helper).
import type { InstanceRecord, ReceiptData } from './instance-record.js';

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
}

/**
 * Receives the fragments of one C-STORE dataset as they arrive, keeps the
 * bytes before top-level (7FE0,xxxx), discards the rest without buffering.
 */
export declare class DatasetHeaderSink {
  constructor(options: DatasetSinkOptions);
  /** Dataset bytes seen so far (including discarded pixel data). */
  readonly bytesReceived: number;
  /** Feed one PDV fragment. Throws DatasetError when the header cap is exceeded. */
  write(fragment: Buffer): void;
  /** After the last fragment: the record. Throws DatasetError for bad data. */
  finish(receipt: Omit<ReceiptData, 'transferSyntaxUid' | 'bytesReceived'>): Promise<InstanceRecord>;
}
