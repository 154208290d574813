/** Splits a Part 10 file (PS3.10 7.1) into its transfer syntax and its dataset bytes. */

export interface Part10 {
  transferSyntaxUid: string;
  dataset: Buffer;
}

export function isPart10(file: Buffer): boolean {
  return file.length >= 132 && file.toString('latin1', 128, 132) === 'DICM';
}

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** Reads the File Meta Information (group 0002, explicit VR little endian) after the preamble. */
export function splitPart10(file: Buffer): Part10 {
  let pos = 132;
  let transferSyntaxUid: string | undefined;
  while (pos + 8 <= file.length && file.readUInt16LE(pos) === 0x0002) {
    const element = file.readUInt16LE(pos + 2);
    const vr = file.toString('latin1', pos + 4, pos + 6);
    let length: number;
    let header: number;
    if (LONG.has(vr)) {
      length = file.readUInt32LE(pos + 8);
      header = 12;
    } else {
      length = file.readUInt16LE(pos + 6);
      header = 8;
    }
    if (element === 0x0010) {
      transferSyntaxUid = file.toString('latin1', pos + header, pos + header + length).replace(/[\0 ]+$/, '');
    }
    pos += header + length;
  }
  const dataset = file.subarray(pos);
  // No (0002,0010): guess as DCMTK does, from whether a VR follows the first tag.
  transferSyntaxUid ??= /^[A-Z]{2}$/.test(dataset.toString('latin1', 4, 6)) ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2';
  return { transferSyntaxUid, dataset };
}
