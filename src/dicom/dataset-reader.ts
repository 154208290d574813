/**
 * Typed reads of one parsed dataset (the top level or a sequence item), by
 * attribute of ./tags.ts, whose VR says how a value is decoded and trimmed.
 * Strings are decoded with the Specific Character Set (an item may declare
 * its own, PS3.5 6.1.2.5.3 note) and trimmed of padding; absent, empty or
 * invalid values read as undefined, never as "" or 0.
 */
import type { DataSet } from 'dicom-parser';
import type { Logger } from 'pino';
import type { PersonName } from './attribute-values.js';
import { splitPersonName, textDecoderFor, trimBoth, trimTrailing, type TextDecoderForDataset } from './charset.js';
import { rawString, valueBytes } from './element-bytes.js';
import { TAG, type AttributeTag } from './tags.js';

/** VRs whose leading spaces are significant (PS3.5 Table 6.2-1). */
const KEEP_LEADING_SPACES = new Set(['LT', 'ST', 'UT']);
/** An IS value (PS3.5 Table 6.2-1: at most 12 characters, optional sign). */
const INTEGER_STRING = /^[+-]?\d{1,12}$/;

export class DatasetReader {
  /**
   * Keywords of the values identifier() kept as their bytes because they did
   * not decode cleanly; undefined while there is none (allocates nothing in
   * the usual case).
   */
  keptAsBytes: string[] | undefined;

  constructor(
    readonly dataSet: DataSet,
    private readonly decoder: TextDecoderForDataset,
    private readonly log: Logger,
  ) {}

  /** UI (and other ASCII values read raw): padding trimmed. */
  uid(attribute: AttributeTag): string | undefined {
    const raw = rawString(this.dataSet, attribute.tag);
    return raw === undefined ? undefined : trimBoth(raw) || undefined;
  }

  /** A text value, decoded and trimmed (LT, ST, UT keep their leading spaces). */
  text(attribute: AttributeTag): string | undefined {
    const bytes = valueBytes(this.dataSet, attribute.tag);
    return bytes && trimmed(this.decoder.decode(bytes, attribute.vr), attribute.vr);
  }

  /**
   * A text value that must not change through a decoding error (Patient ID):
   * when its bytes do not decode cleanly it is read one byte per character
   * (ASCII stays ASCII) and its keyword noted in keptAsBytes.
   */
  identifier(attribute: AttributeTag): string | undefined {
    const bytes = valueBytes(this.dataSet, attribute.tag);
    if (!bytes) return undefined;
    let decoded = this.decoder.decodeExactly(bytes, attribute.vr);
    if (decoded === undefined) {
      decoded = rawString(this.dataSet, attribute.tag)!;
      (this.keptAsBytes ??= []).push(attribute.keyword);
    }
    return trimmed(decoded, attribute.vr);
  }

  /** The first IS value; an invalid one is left out (logged at debug). */
  integer(attribute: AttributeTag): number | undefined {
    const raw = this.uid(attribute);
    if (raw === undefined) return undefined;
    const end = raw.indexOf('\\');
    const first = end < 0 ? raw : trimBoth(raw.slice(0, end));
    if (INTEGER_STRING.test(first)) return Number.parseInt(first, 10);
    this.log.debug({ tag: attribute.tag }, 'invalid IS value left out');
    return undefined;
  }

  /** Every valid IS value, in order; undefined when none is. */
  integers(attribute: AttributeTag): number[] | undefined {
    const raw = rawString(this.dataSet, attribute.tag);
    if (raw === undefined) return undefined;
    const out: number[] = [];
    for (const value of raw.split('\\')) {
      const v = trimBoth(value);
      if (INTEGER_STRING.test(v)) out.push(Number.parseInt(v, 10));
    }
    return out.length > 0 ? out : undefined;
  }

  /** US values (binary, 2 bytes each, in the dataset's byte order). */
  unsignedShorts(attribute: AttributeTag): number[] | undefined {
    const element = this.dataSet.elements[attribute.tag];
    if (!element || element.items || element.length < 2) return undefined;
    if (element.dataOffset + element.length > this.dataSet.byteArray.length) return undefined;
    const out: number[] = [];
    for (let i = 0; i < Math.floor(element.length / 2); i++) {
      const v = this.dataSet.uint16(attribute.tag, i);
      if (v !== undefined) out.push(v);
    }
    return out.length > 0 ? out : undefined;
  }

  /** The first non-empty PN value. */
  personName(attribute: AttributeTag): PersonName | undefined {
    return this.personNames(attribute)?.[0];
  }

  /** Every non-empty PN value, split into component groups. */
  personNames(attribute: AttributeTag): PersonName[] | undefined {
    const bytes = valueBytes(this.dataSet, attribute.tag);
    if (!bytes) return undefined;
    const names: PersonName[] = [];
    for (const value of this.decoder.decode(bytes, 'PN').split('\\')) {
      const name = splitPersonName(value);
      if (name) names.push(name);
    }
    return names.length > 0 ? names : undefined;
  }

  /** What `read` gives for each item of a sequence (items it gives undefined for are left out). */
  items<T>(attribute: AttributeTag, read: (item: DatasetReader) => T | undefined): T[] | undefined {
    const items = this.dataSet.elements[attribute.tag]?.items;
    if (!items) return undefined;
    const out: T[] = [];
    for (const item of items) {
      if (!item.dataSet) continue;
      const value = read(this.itemReader(item.dataSet));
      if (value !== undefined) out.push(value);
    }
    return out.length > 0 ? out : undefined;
  }

  /** What `read` gives for the first item of a sequence. */
  firstItem<T>(attribute: AttributeTag, read: (item: DatasetReader) => T | undefined): T | undefined {
    const item = this.dataSet.elements[attribute.tag]?.items?.[0];
    return item?.dataSet ? read(this.itemReader(item.dataSet)) : undefined;
  }

  private itemReader(item: DataSet): DatasetReader {
    const own = rawString(item, TAG.SpecificCharacterSet.tag);
    const decoder = own === undefined ? this.decoder : textDecoderFor(trimTrailing(own) || undefined);
    return new DatasetReader(item, decoder, this.log);
  }
}

function trimmed(decoded: string, vr: string): string | undefined {
  const text = KEEP_LEADING_SPACES.has(vr) ? trimTrailing(decoded) : trimBoth(decoded);
  return text === '' ? undefined : text;
}
