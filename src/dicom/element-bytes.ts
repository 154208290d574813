import type { DataSet } from 'dicom-parser';

/** Start and end offsets of an element's value in the dataset's bytes, or undefined when absent, empty or a sequence. */
function valueRange(dataSet: DataSet, tag: string): [number, number] | undefined {
  const element = dataSet.elements[tag];
  if (!element || element.length <= 0 || element.items) return undefined;
  const end = element.dataOffset + element.length;
  return end > dataSet.byteArray.length ? undefined : [element.dataOffset, end];
}

/** Raw bytes of an element's value, or undefined when absent or empty. */
export function valueBytes(dataSet: DataSet, tag: string): Uint8Array | undefined {
  const range = valueRange(dataSet, tag);
  return range && dataSet.byteArray.subarray(range[0], range[1]);
}

/** An element's value as Latin-1 text (UIDs, CS, numbers), or undefined. */
export function rawString(dataSet: DataSet, tag: string): string | undefined {
  const range = valueRange(dataSet, tag);
  if (!range) return undefined;
  const bytes = dataSet.byteArray;
  // The kept header is a Buffer: read in place, without a view per value.
  if (Buffer.isBuffer(bytes)) return bytes.toString('latin1', range[0], range[1]);
  return Buffer.from(bytes.buffer, bytes.byteOffset + range[0], range[1] - range[0]).toString('latin1');
}
