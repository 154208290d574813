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
  const bytes = valueBytes(dataSet, tag);
  return bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
