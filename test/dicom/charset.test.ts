import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { convertBytes } from 'dicom-character-set';
import { describe, expect, it } from 'vitest';
import { splitPersonName, textDecoderFor } from '../../src/dicom/charset.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
/** `$B`, `$(D`, `(B`, `(J`, `$)C` written as in PS3.5 Annex H/I: each preceded by ESC. */
const esc = (text: string): Buffer => bytes(text.replace(/\$\(D|\$\)C|\$B|\(B|\(J/g, (s) => `\x1b${s}`));

/** What pydicom decodes each value to (test/dicom/support/pydicom-decode.py). */
function pydicomDecodes(cases: { charset: string; value: Buffer; vr: string }[]): string[] {
  const input = JSON.stringify(cases.map((c) => ({ charset: c.charset, hex: c.value.toString('hex'), vr: c.vr })));
  const out = execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'support/pydicom-decode.py')], { input, encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

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

describe('ISO 2022 sets that designate G0 as value 1 (non-conformant: value 1 is ASCII)', () => {
  // A lone `ISO 2022 IR 87` stands for `\\ISO 2022 IR 87`: G0 is ASCII until an escape sequence.
  const YAMADA = esc('Yamada^Tarou=$B;3ED(B^$BB@O:(B=$B$d$^$@(B^$B$?$m$&(B');
  const cases: { charset: string; value: Buffer; vr: string; expected: string }[] = [
    { charset: 'ISO 2022 IR 87', value: bytes('PID-12345'), vr: 'LO', expected: 'PID-12345' },
    { charset: 'ISO 2022 IR 87', value: bytes('PID12345'), vr: 'LO', expected: 'PID12345' },
    { charset: 'ISO 2022 IR 87', value: YAMADA, vr: 'PN', expected: 'Yamada^Tarou=山田^太郎=やまだ^たろう' },
    { charset: '\\ISO 2022 IR 87', value: YAMADA, vr: 'PN', expected: 'Yamada^Tarou=山田^太郎=やまだ^たろう' },
    { charset: 'ISO 2022 IR 87', value: esc('$B;3ED(B'), vr: 'LO', expected: '山田' },
    { charset: 'ISO 2022 IR 87', value: esc('PID$B;3(B1'), vr: 'LO', expected: 'PID山1' },
    { charset: 'ISO 2022 IR 87', value: bytes('ACC-7'), vr: 'SH', expected: 'ACC-7' },
    { charset: 'ISO 2022 IR 159', value: bytes('PID-12345'), vr: 'LO', expected: 'PID-12345' },
    { charset: 'ISO 2022 IR 159', value: esc('Ab$(D+!(Bc'), vr: 'LO', expected: 'Abác' },
    { charset: 'ISO 2022 IR 87\\ISO 2022 IR 159', value: esc('Doe^$B;3ED(B'), vr: 'PN', expected: 'Doe^山田' },
    // Conformant values read as before.
    { charset: '\\ISO 2022 IR 87', value: bytes('PID-12345'), vr: 'LO', expected: 'PID-12345' },
    { charset: 'ISO 2022 IR 13\\ISO 2022 IR 87', value: Buffer.concat([Buffer.from([0xd4, 0xcf, 0xc0, 0xde, 0x5e, 0xc0, 0xdb, 0xb3]), esc('=$B;3ED(J^$BB@O:(J')]), vr: 'PN', expected: 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎' },
    { charset: '\\ISO 2022 IR 149', value: Buffer.concat([bytes('Hong^Gildong='), esc('$)C'), Buffer.from([0xfb, 0xf3, 0x5e]), esc('$)C'), Buffer.from([0xd1, 0xce, 0xd4, 0xd7])]), vr: 'PN', expected: 'Hong^Gildong=洪^吉洞' },
  ];

  it.each(cases)('$charset, $vr → $expected', ({ charset, value, vr, expected }) => {
    expect(textDecoderFor(charset).decode(value, vr)).toBe(expected);
    expect(textDecoderFor(charset).decodeExactly(value, vr)).toBe(expected);
  });

  it('decodes every case as pydicom does', () => {
    expect(pydicomDecodes(cases)).toEqual(cases.map((c) => c.expected));
  });

  it('keeps the dropped unknown terms out of the way: an IR 87 left first still starts in ASCII', () => {
    const decoder = textDecoderFor('BOGUS\\ISO 2022 IR 87');
    expect(decoder.unknownTerms).toEqual(['BOGUS']);
    expect(decoder.characterSet).toBe('\\ISO 2022 IR 87');
    expect(decoder.decode(bytes('PID-12345'), 'LO')).toBe('PID-12345');
  });
});

describe('decodeExactly: undefined where decode had to guess', () => {
  it.each([
    { charset: 'ISO_IR 192', value: Buffer.from([0x50, 0x49, 0x44, 0xff, 0x31]), vr: 'LO', decoded: 'PID\uFFFD1', why: 'invalid UTF-8' },
    { charset: '\\ISO 2022 IR 87', value: esc('PID(J1'), vr: 'LO', decoded: 'PID\x1b(J1', why: 'an escape sequence of no declared set' },
    { charset: '\\ISO 2022 IR 87', value: esc('PID$B;'), vr: 'LO', decoded: undefined, why: 'half a JIS X 0208 character' },
  ])('$charset: $why', ({ charset, value, vr, decoded }) => {
    const decoder = textDecoderFor(charset);
    expect(decoder.decodeExactly(value, vr)).toBeUndefined();
    if (decoded !== undefined) expect(decoder.decode(value, vr)).toBe(decoded);
  });

  it.each([
    ['ISO_IR 100', Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), 'Müller'],
    ['ISO_IR 192', Buffer.from('Łódź', 'utf8'), 'Łódź'],
    [undefined, bytes('PID-12345'), 'PID-12345'],
    ['ISO_IR 13', bytes('AB12'), 'AB12'],
  ] as const)('%s: what decode gives when the bytes decode cleanly', (charset, value, expected) => {
    expect(textDecoderFor(charset).decodeExactly(value, 'LO')).toBe(expected);
  });
});
