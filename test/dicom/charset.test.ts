import { convertBytes } from 'dicom-character-set';
import { describe, expect, it } from 'vitest';
import { splitPersonName, textDecoderFor } from '../../src/dicom/charset.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('text decoding with the Specific Character Set', () => {
  it('reads ASCII values of ASCII-compatible sets as dicom-character-set does', () => {
    const values = ['CT', 'CHEST^ROUTINE', 'Doe^John', '1.2.840.113619.2.55.3', 'A\\B\\C', ' padded  ', 'with\u001bescape'];
    for (const set of [undefined, 'ISO_IR 6', 'ISO_IR 100', 'ISO_IR 101', 'ISO_IR 144', 'ISO_IR 192', 'GB18030', 'GBK'])
      for (const value of values)
        for (const vr of ['LO', 'PN', 'SH']) expect(textDecoderFor(set).decode(bytes(value), vr)).toBe(convertBytes(set, bytes(value), { vr }));
  });

  it('decodes non-ASCII bytes with the declared set', () => {
    expect(textDecoderFor('ISO_IR 100').decode(Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), 'PN')).toBe('Müller');
    expect(textDecoderFor('ISO_IR 192').decode(Buffer.from('Łódź', 'utf8'), 'LO')).toBe('Łódź');
    expect(textDecoderFor('ISO_IR 144').decode(Buffer.from([0xbb, 0xee, 0xda, 0xd5, 0xe0]), 'PN')).toBe('Люкер');
  });

  it('never takes the ASCII shortcut where ASCII bytes mean something else (ISO 2022 escapes, ISO_IR 13)', () => {
    // ISO 2022 IR 87: the ESC sequences switch to JIS X 0208; the bytes between them are not ASCII text.
    const jis = Buffer.from([0x59, 0x61, 0x6d, 0x61, 0x64, 0x61, 0x5e, 0x54, 0x61, 0x72, 0x6f, 0x75, 0x3d, 0x1b, 0x24, 0x42, 0x3b, 0x33, 0x45, 0x44, 0x1b, 0x28, 0x42, 0x5e, 0x1b, 0x24, 0x42, 0x42, 0x40, 0x4f, 0x3a, 0x1b, 0x28, 0x42]);
    const name = splitPersonName(textDecoderFor('\\ISO 2022 IR 87').decode(jis, 'PN'));
    expect(name).toEqual({ alphabetic: 'Yamada^Tarou', ideographic: '山田^太郎' });
    // ISO_IR 13 is read by its own decoder (JIS X 0201), like dicom-character-set does.
    const kana = Buffer.from([0xd4, 0xcf, 0xc0, 0xde, 0x5e, 0xc0, 0xdb, 0xb3]);
    expect(textDecoderFor('ISO_IR 13').decode(kana, 'PN')).toBe(convertBytes('ISO_IR 13', kana, { vr: 'PN' }));
  });

  it('gives the same decoder for the same value, and keeps unknown terms reported', () => {
    expect(textDecoderFor('ISO_IR 100')).toBe(textDecoderFor('ISO_IR 100'));
    const odd = textDecoderFor('ISO_IR 999');
    expect(odd.unknownTerms).toEqual(['ISO_IR 999']);
    expect(odd.characterSet).toBe('ISO_IR 100');
    expect(textDecoderFor('ISO_IR 999')).toBe(odd);
  });
});
