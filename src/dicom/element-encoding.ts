/**
 * Data element framing in little endian transfer syntaxes (PS3.5 7.1): which
 * explicit VRs take the long form, and one element encoded. Shared by the
 * readers (dataset walker, Part 10 meta) and the writers of the bridge's own
 * data sets (C-FIND identifiers, DICOM JSON imports, the start-up warm-up).
 */

/** Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1). */
export const LONG_FORM_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** Pads to an even length (PS3.5 6.2): UIDs and binary values with NUL, text with a space. */
function padded(vr: string, value: Buffer): Buffer {
  if (value.length % 2 === 0) return value;
  return Buffer.concat([value, Buffer.from([vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0 : 0x20])]);
}

/** One element, little endian: explicit VR (default) or implicit VR (then a 4-byte length, no VR). */
export function encodeElement(tag: number, vr: string, value: Buffer, explicitVr = true): Buffer {
  const body = padded(vr, value);
  const long = explicitVr && LONG_FORM_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  if (!explicitVr) header.writeUInt32LE(body.length, 4);
  else {
    header.write(vr, 4, 'latin1');
    if (long) header.writeUInt32LE(body.length, 8);
    else header.writeUInt16LE(body.length, 6);
  }
  return Buffer.concat([header, body]);
}
