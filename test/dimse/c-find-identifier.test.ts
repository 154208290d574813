/** C-FIND identifiers: encoding of query keys, splitting of responses, the merge of levels; the keys asked at each level. */
import { describe, expect, it } from 'vitest';
import { parseHeader, PARSER_SYNTAX } from '../../src/dicom/record-extractor.js';
import { TAG } from '../../src/dicom/tags.js';
import { encodeIdentifier, IdentifierError, mergeIdentifiers, splitIdentifier, textValue } from '../../src/dimse/c-find-identifier.js';
import { IMAGE_RETURN_KEYS, SERIES_RETURN_KEYS, STUDY_RETURN_KEYS } from '../../src/dimse/c-find-keys.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../../src/dimse/constants.js';

const KEYS = [
  { tag: 0x0020000d, vr: 'UI', value: '1.2.3' },
  { tag: 0x00080020, vr: 'DA', value: '20240101-20241231' },
  { tag: 0x00100010, vr: 'PN' },
  { tag: 0x00081032, vr: 'SQ' },
];

describe('encodeIdentifier', () => {
  it.each([
    ['explicit', EXPLICIT_VR_LITTLE_ENDIAN, PARSER_SYNTAX.explicitLittle],
    ['implicit', IMPLICIT_VR_LITTLE_ENDIAN, PARSER_SYNTAX.implicitLittle],
  ])('writes the level and the keys in ascending order, %s VR, readable by dicom-parser', (_name, ts, parser) => {
    const bytes = encodeIdentifier('STUDY', KEYS, ts);
    expect(bytes.length % 2).toBe(0);
    const ds = parseHeader(bytes, parser);
    expect(Object.keys(ds.elements)).toEqual(['x00080020', 'x00080052', 'x00081032', 'x00100010', 'x0020000d']);
    expect(ds.string('x00080052')).toBe('STUDY');
    expect(ds.string('x0020000d')).toBe('1.2.3');
    expect(ds.string('x00080020')).toBe('20240101-20241231');
    expect(ds.elements.x00100010!.length).toBe(0);
    expect(ds.elements.x00081032!.length).toBe(0);
    // No Specific Character Set for ASCII values; UI padded with NUL.
    expect(ds.elements.x00080005).toBeUndefined();
    expect(bytes.includes(Buffer.from('1.2.3\0'))).toBe(true);
  });

  it('names ISO_IR 192 and writes UTF-8 when a value is not ASCII', () => {
    const ds = parseHeader(encodeIdentifier('STUDY', [{ tag: 0x00100020, vr: 'LO', value: 'Zoë' }], EXPLICIT_VR_LITTLE_ENDIAN), PARSER_SYNTAX.explicitLittle);
    expect(ds.string('x00080005')).toBe('ISO_IR 192');
    expect(Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + ds.elements.x00100020!.dataOffset, 4).toString('utf8')).toBe('Zoë');
  });

  it('refuses a transfer syntax it does not encode', () => {
    expect(() => encodeIdentifier('STUDY', KEYS, '1.2.840.10008.1.2.2')).toThrow(IdentifierError);
  });
});

/** An explicit VR LE element. */
function el(group: number, element: number, vr: string, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value.length % 2 ? `${value} ` : value, 'latin1') : value;
  const long = ['SQ', 'OB', 'UN', 'UT'].includes(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.write(vr, 4, 'latin1');
  if (long) h.writeUInt32LE(v.length, 8);
  else h.writeUInt16LE(v.length, 6);
  return Buffer.concat([h, v]);
}

/** An undefined-length sequence of one undefined-length item holding `content`. */
function undefinedSequence(group: number, element: number, content: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.write('SQ', 4, 'latin1');
  h.writeUInt32LE(0xffffffff, 8);
  const tag = (e: number, len: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(0xfffe, 0);
    b.writeUInt16LE(e, 2);
    b.writeUInt32LE(len, 4);
    return b;
  };
  return Buffer.concat([h, tag(0xe000, 0xffffffff), content, tag(0xe00d, 0), tag(0xe0dd, 0)]);
}

describe('splitIdentifier and mergeIdentifiers', () => {
  const procedure = undefinedSequence(0x0008, 0x1032, Buffer.concat([el(0x0008, 0x0100, 'SH', 'P1'), el(0x0008, 0x0102, 'SH', 'L')]));
  const study = Buffer.concat([el(0x0008, 0x0050, 'SH', 'ACC1'), el(0x0008, 0x0052, 'CS', 'STUDY'), procedure, el(0x0020, 0x000d, 'UI', '1.2.3\0')]);
  const series = Buffer.concat([el(0x0008, 0x0050, 'SH', ''), el(0x0008, 0x0060, 'CS', 'CT'), el(0x0020, 0x000d, 'UI', '1.2.3\0'), el(0x0020, 0x000e, 'UI', '1.2.3.4\0')]);

  it('splits top-level elements, an undefined-length sequence whole', () => {
    const parts = splitIdentifier(study, EXPLICIT_VR_LITTLE_ENDIAN);
    expect([...parts.keys()]).toEqual([0x00080050, 0x00080052, 0x00081032, 0x0020000d]);
    expect(parts.get(0x00081032)!.raw.equals(procedure)).toBe(true);
    expect(textValue(parts, 0x0020000d)).toBe('1.2.3');
    expect(textValue(parts, 0x00100010)).toBeUndefined();
  });

  it('merges levels: a deeper value wins, an empty one erases nothing, the level is left out', () => {
    const merged = mergeIdentifiers([splitIdentifier(study, EXPLICIT_VR_LITTLE_ENDIAN), splitIdentifier(series, EXPLICIT_VR_LITTLE_ENDIAN)]);
    const ds = parseHeader(merged, PARSER_SYNTAX.explicitLittle);
    expect(ds.string('x00080050')).toBe('ACC1');
    expect(ds.string('x00080060')).toBe('CT');
    expect(ds.string('x0020000e')).toBe('1.2.3.4');
    expect(ds.elements.x00080052).toBeUndefined();
    expect(ds.elements.x00081032!.items![0]!.dataSet!.string('x00080100')).toBe('P1');
  });

  it('refuses levels of different character sets, and a truncated identifier', () => {
    const a = splitIdentifier(el(0x0008, 0x0005, 'CS', 'ISO_IR 100'), EXPLICIT_VR_LITTLE_ENDIAN);
    const b = splitIdentifier(el(0x0008, 0x0005, 'CS', 'ISO_IR 192'), EXPLICIT_VR_LITTLE_ENDIAN);
    expect(() => mergeIdentifiers([a, b])).toThrow(/different Specific Character Sets \(ISO_IR 100, ISO_IR 192\)/);
    expect(() => splitIdentifier(study.subarray(0, study.length - 3), EXPLICIT_VR_LITTLE_ENDIAN)).toThrow(IdentifierError);
  });
});

describe('the keys of each level', () => {
  const tagOf = (keyword: keyof typeof TAG) => parseInt(TAG[keyword].tag.slice(1), 16);
  const has = (keys: readonly { tag: number }[], keyword: keyof typeof TAG) => keys.some((k) => k.tag === tagOf(keyword));
  // What src/dicom/record-extractor.ts reads, by the level of the Study Root model that holds it.
  const study = ['StudyInstanceUID', 'StudyDate', 'StudyTime', 'TimezoneOffsetFromUTC', 'AccessionNumber', 'IssuerOfAccessionNumberSequence', 'StudyID',
    'StudyDescription', 'ReferringPhysicianName', 'NameOfPhysiciansReadingStudy', 'ProcedureCodeSequence', 'RequestedProcedureCodeSequence',
    'RequestedProcedureDescription', 'ReasonForTheRequestedProcedure', 'ReasonForRequestedProcedureCodeSequence', 'PatientName', 'PatientID',
    'IssuerOfPatientID', 'IssuerOfPatientIDQualifiersSequence', 'PatientBirthDate', 'PatientSex'] as const;
  const series = ['SeriesInstanceUID', 'SeriesNumber', 'Modality', 'SeriesDescription', 'BodyPartExamined', 'Laterality', 'SeriesDate', 'SeriesTime',
    'PerformingPhysicianName', 'OperatorsName'] as const;
  const image = ['SOPInstanceUID', 'SOPClassUID', 'InstanceNumber', 'ContentLabel', 'DocumentTitle', 'ConceptNameCodeSequence', 'NumberOfFrames',
    'StructureSetLabel', 'ImageLaterality'] as const;

  it.each([
    ['STUDY', STUDY_RETURN_KEYS, study],
    ['SERIES', SERIES_RETURN_KEYS, series],
    ['IMAGE', IMAGE_RETURN_KEYS, image],
  ] as const)('%s asks for every attribute of its level the record extractor reads, with its VR', (_level, keys, keywords) => {
    for (const keyword of keywords) {
      expect(has(keys, keyword), keyword).toBe(true);
      expect(keys.find((k) => k.tag === tagOf(keyword))!.vr).toBe(TAG[keyword].vr.split(' ')[0]);
    }
  });
});
