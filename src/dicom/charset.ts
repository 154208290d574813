/**
 * Text decoding with the dataset's Specific Character Set (0008,0005),
 * PS3.5 Section 6.1 and Annex H/I/J (ISO 2022 code extensions), and the split
 * of Person Name values into component groups (PS3.5 6.2.1), done after
 * decoding because the `=`, `^` and `\` delimiters are in the G0 ASCII set.
 */
import { characterSets, convertBytes } from 'dicom-character-set';
import type { PersonName } from './attribute-values.js';

/** Default repertoire used when the declared one cannot be used. */
const FALLBACK_CHARACTER_SET = 'ISO_IR 100';

export interface TextDecoderForDataset {
  /** The Specific Character Set actually used (after dropping unknown terms). */
  readonly characterSet: string | undefined;
  /** Terms of (0008,0005) that were not recognised, if any. */
  readonly unknownTerms: readonly string[];
  /** Never throws: bytes that cannot be decoded are read as Latin-1. */
  decode(bytes: Uint8Array, vr: string): string;
  /** undefined when the bytes do not decode cleanly (a conversion error or a replacement character). */
  decodeExactly(bytes: Uint8Array, vr: string): string | undefined;
}

/**
 * Returns a decoder for a dataset's (0008,0005) value (undefined: the default
 * repertoire). Unknown terms are dropped; if none is left, Latin-1 is used.
 */
export function textDecoderFor(specificCharacterSet: string | undefined): TextDecoderForDataset {
  const key = specificCharacterSet ?? '';
  const cached = decoders.get(key);
  if (cached) return cached;
  const decoder = createDecoder(specificCharacterSet);
  // Bounded: a site sends a handful of values; garbage values must not grow it for ever.
  if (decoders.size >= MAX_CACHED_DECODERS) decoders.clear();
  decoders.set(key, decoder);
  return decoder;
}

const MAX_CACHED_DECODERS = 64;
const decoders = new Map<string, TextDecoderForDataset>();

/**
 * Character sets without code extensions whose bytes 0x00-0x7F are ASCII
 * (PS3.3 C.12.1.1.2): a value in those bytes reads the same without a
 * decoder. ISO_IR 13 is not one (its G0 is JIS X 0201 Romaji), nor is any
 * ISO 2022 set (ESC sequences switch the repertoire).
 */
const ASCII_SUPERSETS = new Set([
  'ISO_IR 6', 'ISO_IR 100', 'ISO_IR 101', 'ISO_IR 109', 'ISO_IR 110', 'ISO_IR 144', 'ISO_IR 127',
  'ISO_IR 126', 'ISO_IR 138', 'ISO_IR 148', 'ISO_IR 166', 'ISO_IR 192', 'GB18030', 'GBK',
]);

function createDecoder(specificCharacterSet: string | undefined): TextDecoderForDataset {
  const { characterSet, unknownTerms } = usableCharacterSet(specificCharacterSet);
  const asciiReadsAsIs = characterSet === undefined || ASCII_SUPERSETS.has(characterSet);
  return {
    characterSet,
    unknownTerms,
    decode(bytes: Uint8Array, vr: string): string {
      if (bytes.length === 0) return '';
      if (asciiReadsAsIs && isAscii(bytes)) return asciiString(bytes);
      try {
        return convertBytes(characterSet, bytes, { vr });
      } catch {
        // Malformed escape sequences or multi-byte runs: decode what can be read.
        return new TextDecoder('latin1').decode(bytes);
      }
    },
    decodeExactly(bytes: Uint8Array, vr: string): string | undefined {
      if (bytes.length === 0) return '';
      if (asciiReadsAsIs && isAscii(bytes)) return asciiString(bytes);
      let text: string;
      try {
        text = convertBytes(characterSet, bytes, { vr });
      } catch {
        return undefined;
      }
      return text.includes(REPLACEMENT_CHARACTER) ? undefined : text;
    },
  };
}

/** What TextDecoder gives for bytes that are invalid in its encoding. */
const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * ISO 2022 sets that designate G0 (PS3.3 Table C.12-4: JIS X 0208 and JIS X
 * 0212) cannot be value 1, whose G0 is the initial one: a lone
 * `ISO 2022 IR 87` is read as `\ISO 2022 IR 87`: ASCII until an escape
 * sequence, as pydicom reads it (DCMTK does not convert it and shows the
 * bytes, ASCII as ASCII). dicom-character-set would start in JIS X 0208 and
 * read ASCII as kanji.
 */
const G0_MULTI_BYTE_SETS = new Set(['ISO 2022 IR 87', 'ISO 2022 IR 159']);

function usableCharacterSet(value: string | undefined): { characterSet: string | undefined; unknownTerms: string[] } {
  if (value === undefined) return { characterSet: undefined, unknownTerms: [] };
  const terms = value.split('\\').map((term) => term.trim().toUpperCase());
  const unknownTerms = terms.filter((term, index) => !(term === '' && index === 0) && !(term in characterSets));
  const known = unknownTerms.length === 0 ? terms : terms.filter((term, index) => (term === '' && index === 0) || term in characterSets);
  if (unknownTerms.length > 0 && !known.some((term) => term !== '')) return { characterSet: FALLBACK_CHARACTER_SET, unknownTerms };
  if (G0_MULTI_BYTE_SETS.has(known[0]!)) known.unshift('');
  return { characterSet: known.join('\\') || undefined, unknownTerms };
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7e) return false;
  return true;
}

function asciiString(bytes: Uint8Array): string {
  // A Buffer view (what the header reader passes) is read in place; no second view.
  if (Buffer.isBuffer(bytes)) return bytes.toString('latin1');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

/** Trailing spaces and NULs (DICOM padding). */
export function trimTrailing(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x00) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

/** Leading and trailing spaces and NULs. */
export function trimBoth(text: string): string {
  let start = 0;
  const trimmed = trimTrailing(text);
  while (start < trimmed.length) {
    const c = trimmed.charCodeAt(start);
    if (c !== 0x20 && c !== 0x00) break;
    start++;
  }
  return start === 0 ? trimmed : trimmed.slice(start);
}

/**
 * Splits one decoded PN value into its component groups. Components keep the
 * `Family^Given^Middle^Prefix^Suffix` form, with trailing empty components
 * and padding removed. Undefined when every group is empty.
 */
export function splitPersonName(value: string): PersonName | undefined {
  const groups = value.split('=');
  const name: PersonName = {};
  const alphabetic = cleanGroup(groups[0]);
  const ideographic = cleanGroup(groups[1]);
  const phonetic = cleanGroup(groups[2]);
  if (alphabetic) name.alphabetic = alphabetic;
  if (ideographic) name.ideographic = ideographic;
  if (phonetic) name.phonetic = phonetic;
  return alphabetic || ideographic || phonetic ? name : undefined;
}

function cleanGroup(group: string | undefined): string | undefined {
  if (group === undefined) return undefined;
  let text = trimBoth(group);
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x5e /* ^ */) end--;
  text = trimTrailing(text.slice(0, end));
  return text === '' ? undefined : text;
}
