import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { textDecoderFor } from '../../src/dicom/charset.js';
import { DatasetReader } from '../../src/dicom/dataset-reader.js';
import { PARSER_SYNTAX, parseHeader } from '../../src/dicom/record-extractor.js';
import { TAG } from '../../src/dicom/tags.js';
import { EXPLICIT_BE, EXPLICIT_LE, el, encode, type Element, type Encoding } from './support/encode.js';

const silent = pino({ level: 'silent' });

function reader(elements: Element[], charset?: string, enc: Encoding = EXPLICIT_LE): DatasetReader {
  const bytes = encode([...elements].sort((a, b) => a.tag - b.tag), enc);
  const dataSet = parseHeader(bytes, enc === EXPLICIT_BE ? PARSER_SYNTAX.explicitBig : PARSER_SYNTAX.explicitLittle);
  return new DatasetReader(dataSet, textDecoderFor(charset), silent);
}

describe('DatasetReader', () => {
  it('trims by the VR of the tag table: LT, ST, UT keep leading spaces, the others lose both ends', () => {
    const r = reader([el(0x00420010, 'ST', '  Title  '), el(0x0040a160, 'UT', '  Text '), el(0x00081030, 'LO', '  Study  ')]);
    expect(r.text(TAG.DocumentTitle)).toBe('  Title');
    expect(r.text(TAG.TextValue)).toBe('  Text');
    expect(r.text(TAG.StudyDescription)).toBe('Study');
    expect(r.text(TAG.SeriesDescription)).toBeUndefined();
  });

  it('reads IS with one rule: integer() the first value, integers() every valid one', () => {
    const r = reader([el(0x00200011, 'IS', ' -7 \\8'), el(0x00081160, 'IS', '1\\x\\+3\\ 12 \\1.5'), el(0x00200013, 'IS', 'x\\2')]);
    expect(r.integer(TAG.SeriesNumber)).toBe(-7);
    expect(r.integers(TAG.ReferencedFrameNumber)).toEqual([1, 3, 12]);
    expect(r.integer(TAG.InstanceNumber)).toBeUndefined();
    expect(r.integers(TAG.SeriesNumber)).toEqual([-7, 8]);
  });

  it('reads US values in the byte order of the dataset', () => {
    const us = (enc: Encoding) => Buffer.from(enc.littleEndian ? [0x02, 0x00, 0x2c, 0x01] : [0x00, 0x02, 0x01, 0x2c]);
    for (const enc of [EXPLICIT_LE, EXPLICIT_BE]) {
      expect(reader([el(0x0062000b, 'US', us(enc))], undefined, enc).unsignedShorts(TAG.ReferencedSegmentNumber)).toEqual([2, 300]);
    }
  });

  it('reads items with their own Specific Character Set, else the dataset one', () => {
    const r = reader(
      [
        el(0x00081032, 'SQ', [
          [el(0x00080104, 'LO', 'R\xe9sum\xe9')],
          [el(0x00080005, 'CS', 'ISO_IR 192'), el(0x00080104, 'LO', Buffer.from('Résumé', 'utf8'))],
        ]),
      ],
      'ISO_IR 100',
    );
    expect(r.items(TAG.ProcedureCodeSequence, (item) => item.text(TAG.CodeMeaning))).toEqual(['Résumé', 'Résumé']);
    expect(r.firstItem(TAG.ProcedureCodeSequence, (item) => item.text(TAG.CodeMeaning))).toBe('Résumé');
    expect(r.items(TAG.RequestedProcedureCodeSequence, (item) => item)).toBeUndefined();
  });

  it('keeps an identifier that does not decode cleanly as its bytes and notes its keyword; allocates nothing otherwise', () => {
    const clean = reader([el(0x00100020, 'LO', 'PID-12345')], 'ISO 2022 IR 87');
    expect(clean.identifier(TAG.PatientID)).toBe('PID-12345');
    expect(clean.keptAsBytes).toBeUndefined();
    const broken = reader([el(0x00100020, 'LO', Buffer.from([0x41, 0xc3, 0x28, 0x42]))], 'ISO_IR 192');
    expect(broken.text(TAG.PatientID)).toBe('A\uFFFD(B');
    expect(broken.identifier(TAG.PatientID)).toBe('A\xc3(B');
    expect(broken.keptAsBytes).toEqual(['PatientID']);
  });
});
