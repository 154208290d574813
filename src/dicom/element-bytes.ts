import type { DataSet } from 'dicom-parser';

/** Raw bytes of an element's value, or undefined when absent or empty. */
export function valueBytes(dataSet: DataSet, tag: string): Uint8Array | undefined {
  const element = dataSet.elements[tag];
  if (!element || element.length <= 0 || element.items) return undefined;
  const end = element.dataOffset + element.length;
  if (end > dataSet.byteArray.length) return undefined;
  return dataSet.byteArray.subarray(element.dataOffset, end);
}

/** An element's value as Latin-1 text (UIDs, CS, numbers), or undefined. */
export function rawString(dataSet: DataSet, tag: string): string | undefined {
  const element = dataSet.elements[tag];
  if (!element || element.length <= 0 || element.items) return undefined;
  const start = element.dataOffset;
  const end = start + element.length;
  const bytes = dataSet.byteArray;
  if (end > bytes.length) return undefined;
  // The header is a Buffer: read in place, without a view per value.
  if (Buffer.isBuffer(bytes)) return bytes.toString('latin1', start, end);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}
