/**
 * Reads a Key Object Selection Document (KOS, SOP Class
 * 1.2.840.10008.5.1.4.1.1.88.59; PS3.3 A.35.4, Key Object Document Module
 * C.17.6, SR Document Content Module C.17.3, template TID 2010) from the
 * kept header (a KOS has no pixel data, so the whole dataset is kept).
 *
 * What is read:
 * - title: the root Concept Name Code Sequence (0040,A043), from CID 7010;
 *   a rejection note (IHE IOCM) when the title is (113001 | 113037 | 113038 |
 *   113039, DCM).
 * - content date/time (0008,0023)/(0008,0033) raw, and the observer: the
 *   PNAME content item (121008, DCM, "Person Observer Name") of the observer
 *   context (TID 1002), else the first person in (0040,A078) Author Observer
 *   Sequence.
 * - description: the TEXT content item (113012, DCM, "Key Object
 *   Description") directly under the root.
 * - references: every instance in (0040,A375) Current Requested Procedure
 *   Evidence Sequence (Hierarchical SOP Instance Reference Macro, PS3.3
 *   Table C.17-3: study → (0008,1115) series → (0008,1199) SOP), merged with
 *   the IMAGE / COMPOSITE / WAVEFORM items of the content tree (0040,A730),
 *   whose (0008,1199) items carry (0008,1160) frame or (0062,000B) segment
 *   numbers. A content item only names the SOP instance, so its study and
 *   series come from the evidence (PS3.3 C.17.6.2.1: every referenced
 *   instance shall be listed there); one not listed is dropped (debug log).
 *   De-duplicated by SOP Instance UID. Frames: an instance that some content
 *   item selects whole stays whole; otherwise the union of the selected
 *   frames (likewise segments).
 *
 * Malformed documents (no title, no evidence, no usable reference, items
 * without UIDs) give undefined or skip the bad item, with a debug log;
 * nothing here throws.
 */
import type { DataSet } from 'dicom-parser';
import { rawString, valueBytes } from './element-bytes.js';
import type { Logger } from 'pino';
import { splitPersonName, textDecoderFor, trimBoth, trimTrailing, type TextDecoderForDataset } from './charset.js';
import type { CodedEntry, PersonName } from './instance-record.js';

export const KEY_OBJECT_SELECTION_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.88.59';

/** CID 7010 titles that make a KOS an IHE IOCM rejection note (scheme DCM). */
export const REJECTION_REASONS = ['113001', '113037', '113038', '113039'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** One selected SOP instance (optionally a subset of its frames or segments). */
export interface KeyObjectReference {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  /** (0008,1160) Referenced Frame Number: selected frames (1-based), sorted; absent = whole instance. */
  frames?: number[];
  /** (0062,000B) Referenced Segment Number: selected segments, sorted; absent = all. */
  segments?: number[];
  /** (0008,0054) Retrieve AE Title, series level else study level. */
  retrieveAeTitle?: string;
  /** (0008,1190) Retrieve URL, series level else study level. */
  retrieveUrl?: string;
}

export interface KeyObjectDocument {
  /** Root Concept Name Code Sequence (0040,A043): the document title. */
  title: CodedEntry;
  isRejection: boolean;
  rejectionReason?: RejectionReason;
  /** TEXT item (113012, DCM, "Key Object Description"). */
  description?: string;
  /** (0008,0023) raw DA */
  contentDate?: string;
  /** (0008,0033) raw TM */
  contentTime?: string;
  /** Person Observer Name (121008) or Author Observer Sequence person. */
  observer?: PersonName;
  references: KeyObjectReference[];
}

const TAG = {
  SpecificCharacterSet: 'x00080005',
  ContentDate: 'x00080023',
  ContentTime: 'x00080033',
  RetrieveAETitle: 'x00080054',
  CodeValue: 'x00080100',
  CodingSchemeDesignator: 'x00080102',
  CodingSchemeVersion: 'x00080103',
  CodeMeaning: 'x00080104',
  LongCodeValue: 'x00080119',
  URNCodeValue: 'x00080120',
  ReferencedSeriesSequence: 'x00081115',
  ReferencedSOPClassUID: 'x00081150',
  ReferencedSOPInstanceUID: 'x00081155',
  ReferencedFrameNumber: 'x00081160',
  RetrieveURL: 'x00081190',
  ReferencedSOPSequence: 'x00081199',
  StudyInstanceUID: 'x0020000d',
  SeriesInstanceUID: 'x0020000e',
  ReferencedSegmentNumber: 'x0062000b',
  RelationshipType: 'x0040a010',
  ValueType: 'x0040a040',
  ConceptNameCodeSequence: 'x0040a043',
  AuthorObserverSequence: 'x0040a078',
  ObserverType: 'x0040a084',
  PersonName: 'x0040a123',
  TextValue: 'x0040a160',
  CurrentRequestedProcedureEvidenceSequence: 'x0040a375',
  ContentSequence: 'x0040a730',
} as const;

/** Concept names of TID 2010 / TID 1002 content items (DCM). */
const KEY_OBJECT_DESCRIPTION = '113012';
const PERSON_OBSERVER_NAME = '121008';
/** Content item value types that reference a composite instance (PS3.3 C.17.3.2.1). */
const REFERENCE_VALUE_TYPES = new Set(['IMAGE', 'COMPOSITE', 'WAVEFORM']);

const REJECTION_SET: ReadonlySet<string> = new Set(REJECTION_REASONS);

/** The rejection reason of a title, when it is one of the four IOCM codes with scheme DCM. */
export function rejectionReasonOf(title: CodedEntry | undefined): RejectionReason | undefined {
  if (title?.codingSchemeDesignator?.trim() !== 'DCM') return undefined;
  const code = title.codeValue?.trim();
  return code !== undefined && REJECTION_SET.has(code) ? (code as RejectionReason) : undefined;
}

/**
 * Reads the KOS content of a parsed dataset; undefined (debug log) when it is
 * not usable. Never throws.
 */
export function readKeyObject(dataSet: DataSet, log: Logger, decoder?: TextDecoderForDataset): KeyObjectDocument | undefined {
  try {
    const d = decoder ?? textDecoderFor(trimTrailing(rawString(dataSet, TAG.SpecificCharacterSet) ?? '') || undefined);
    return read(new ItemReader(dataSet, d), log);
  } catch (error) {
    log.debug({ err: error instanceof Error ? error.message : String(error) }, 'key object selection document not read');
    return undefined;
  }
}

function read(root: ItemReader, log: Logger): KeyObjectDocument | undefined {
  const title = root.firstItem(TAG.ConceptNameCodeSequence, codedEntry);
  if (!title?.codeValue) {
    log.debug('key object selection document without title: left out');
    return undefined;
  }
  const evidence = readEvidence(root, log);
  if (evidence.size === 0) {
    log.debug('key object selection document without Current Requested Procedure Evidence: left out');
    return undefined;
  }

  const content = root.items(TAG.ContentSequence) ?? [];
  let description: string | undefined;
  let observer: PersonName | undefined;
  /** Per SOP Instance UID: frame/segment lists of each content item; [] = whole instance. */
  const selections = new Map<string, { frames: number[][]; segments: number[][]; whole: boolean }>();
  for (const item of content) {
    const valueType = item.text(TAG.ValueType, 'CS');
    const concept = item.firstItem(TAG.ConceptNameCodeSequence, codedEntry);
    const isDcm = concept?.codingSchemeDesignator === 'DCM';
    if (valueType === 'TEXT' && isDcm && concept?.codeValue === KEY_OBJECT_DESCRIPTION) {
      description ??= item.text(TAG.TextValue, 'UT');
    } else if (valueType === 'PNAME' && isDcm && concept?.codeValue === PERSON_OBSERVER_NAME) {
      observer ??= item.personName(TAG.PersonName);
    } else if (valueType !== undefined && REFERENCE_VALUE_TYPES.has(valueType)) {
      for (const sop of item.items(TAG.ReferencedSOPSequence) ?? []) {
        const uid = sop.uid(TAG.ReferencedSOPInstanceUID);
        if (!uid) {
          log.debug({ valueType }, 'content item reference without SOP Instance UID: skipped');
          continue;
        }
        if (!evidence.has(uid)) {
          log.debug({ sopInstanceUid: uid }, 'content item reference not in the evidence sequence: skipped');
          continue;
        }
        const frames = sop.integers(TAG.ReferencedFrameNumber);
        const segments = sop.unsignedShorts(TAG.ReferencedSegmentNumber);
        const s = selections.get(uid) ?? { frames: [], segments: [], whole: false };
        if (frames) s.frames.push(frames);
        if (segments) s.segments.push(segments);
        if (!frames && !segments) s.whole = true;
        selections.set(uid, s);
      }
    }
  }
  observer ??= authorObserver(root);

  const references: KeyObjectReference[] = [];
  for (const [uid, ref] of evidence) {
    const s = selections.get(uid);
    const out: KeyObjectReference = { ...ref };
    if (s?.whole) {
      delete out.frames;
    } else if (s) {
      const frames = union(s.frames, ref.frames);
      const segments = union(s.segments, undefined);
      if (frames) out.frames = frames;
      if (segments) out.segments = segments;
    }
    references.push(out);
  }

  const doc: KeyObjectDocument = { title, isRejection: false, references };
  const reason = rejectionReasonOf(title);
  if (reason) {
    doc.isRejection = true;
    doc.rejectionReason = reason;
  }
  if (description !== undefined) doc.description = description;
  const contentDate = root.text(TAG.ContentDate, 'DA');
  if (contentDate !== undefined) doc.contentDate = contentDate;
  const contentTime = root.text(TAG.ContentTime, 'TM');
  if (contentTime !== undefined) doc.contentTime = contentTime;
  if (observer) doc.observer = observer;
  return doc;
}

/** Evidence instances by SOP Instance UID, in document order. */
function readEvidence(root: ItemReader, log: Logger): Map<string, KeyObjectReference> {
  const out = new Map<string, KeyObjectReference>();
  for (const study of root.items(TAG.CurrentRequestedProcedureEvidenceSequence) ?? []) {
    const studyUid = study.uid(TAG.StudyInstanceUID);
    if (!studyUid) {
      log.debug('evidence study item without Study Instance UID: skipped');
      continue;
    }
    const studyAe = study.text(TAG.RetrieveAETitle, 'AE');
    const studyUrl = study.text(TAG.RetrieveURL, 'UR');
    for (const series of study.items(TAG.ReferencedSeriesSequence) ?? []) {
      const seriesUid = series.uid(TAG.SeriesInstanceUID);
      if (!seriesUid) {
        log.debug('evidence series item without Series Instance UID: skipped');
        continue;
      }
      const ae = series.text(TAG.RetrieveAETitle, 'AE') ?? studyAe;
      const url = series.text(TAG.RetrieveURL, 'UR') ?? studyUrl;
      for (const sop of series.items(TAG.ReferencedSOPSequence) ?? []) {
        const sopInstanceUid = sop.uid(TAG.ReferencedSOPInstanceUID);
        const sopClassUid = sop.uid(TAG.ReferencedSOPClassUID);
        if (!sopInstanceUid || !sopClassUid) {
          log.debug('evidence SOP item without SOP Class or Instance UID: skipped');
          continue;
        }
        const ref: KeyObjectReference = { studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, sopClassUid, sopInstanceUid };
        const frames = sop.integers(TAG.ReferencedFrameNumber);
        if (frames) ref.frames = union([frames], undefined)!;
        if (ae !== undefined) ref.retrieveAeTitle = ae;
        if (url !== undefined) ref.retrieveUrl = url;
        if (!out.has(sopInstanceUid)) out.set(sopInstanceUid, ref);
      }
    }
  }
  return out;
}

function authorObserver(root: ItemReader): PersonName | undefined {
  for (const item of root.items(TAG.AuthorObserverSequence) ?? []) {
    const type = item.text(TAG.ObserverType, 'CS');
    if (type !== undefined && type !== 'PSN') continue;
    const name = item.personName(TAG.PersonName);
    if (name) return name;
  }
  return undefined;
}

function union(lists: number[][], extra: number[] | undefined): number[] | undefined {
  const all = new Set<number>([...lists.flat(), ...(extra ?? [])]);
  return all.size > 0 ? [...all].sort((a, b) => a - b) : undefined;
}

function codedEntry(r: ItemReader): CodedEntry | undefined {
  const entry: CodedEntry = {};
  const value = r.text(TAG.CodeValue, 'SH') ?? r.text(TAG.LongCodeValue, 'UC') ?? r.text(TAG.URNCodeValue, 'UR');
  if (value !== undefined) entry.codeValue = value;
  const scheme = r.text(TAG.CodingSchemeDesignator, 'SH');
  if (scheme !== undefined) entry.codingSchemeDesignator = scheme;
  const version = r.text(TAG.CodingSchemeVersion, 'SH');
  if (version !== undefined) entry.codingSchemeVersion = version;
  const meaning = r.text(TAG.CodeMeaning, 'LO');
  if (meaning !== undefined) entry.codeMeaning = meaning;
  return Object.keys(entry).length > 0 ? entry : undefined;
}

/** Typed reads from one dataset or sequence item (items may declare their own character set). */
class ItemReader {
  constructor(
    private readonly dataSet: DataSet,
    private readonly decoder: TextDecoderForDataset,
  ) {}

  uid(tag: string): string | undefined {
    const raw = rawString(this.dataSet, tag);
    return raw === undefined ? undefined : trimBoth(raw) || undefined;
  }

  text(tag: string, vr: string): string | undefined {
    const bytes = valueBytes(this.dataSet, tag);
    if (!bytes) return undefined;
    const decoded = this.decoder.decode(bytes, vr);
    const text = vr === 'UT' || vr === 'ST' || vr === 'LT' ? trimTrailing(decoded) : trimBoth(decoded);
    return text === '' ? undefined : text;
  }

  personName(tag: string): PersonName | undefined {
    const bytes = valueBytes(this.dataSet, tag);
    if (!bytes) return undefined;
    return splitPersonName(this.decoder.decode(bytes, 'PN').split('\\')[0]!);
  }

  /** IS values (backslash-separated), positive integers only; undefined when none is valid. */
  integers(tag: string): number[] | undefined {
    const raw = rawString(this.dataSet, tag);
    if (raw === undefined) return undefined;
    const out = raw
      .split('\\')
      .map((v) => trimBoth(v))
      .filter((v) => /^\+?\d{1,10}$/.test(v))
      .map((v) => Number.parseInt(v, 10))
      .filter((n) => n >= 1);
    return out.length > 0 ? out : undefined;
  }

  /** US values (binary, 2 bytes each, in the dataset's byte order). */
  unsignedShorts(tag: string): number[] | undefined {
    const element = this.dataSet.elements[tag];
    if (!element || element.items || element.length < 2) return undefined;
    if (element.dataOffset + element.length > this.dataSet.byteArray.length) return undefined;
    const out: number[] = [];
    for (let i = 0; i < Math.floor(element.length / 2); i++) {
      const v = this.dataSet.uint16(tag, i);
      if (v !== undefined && v >= 1) out.push(v);
    }
    return out.length > 0 ? out : undefined;
  }

  items(tag: string): ItemReader[] | undefined {
    const items = this.dataSet.elements[tag]?.items;
    if (!items) return undefined;
    const out: ItemReader[] = [];
    for (const item of items) {
      if (!item.dataSet) continue;
      const own = rawString(item.dataSet, TAG.SpecificCharacterSet);
      const decoder = own === undefined ? this.decoder : textDecoderFor(trimTrailing(own) || undefined);
      out.push(new ItemReader(item.dataSet, decoder));
    }
    return out;
  }

  firstItem<T>(tag: string, read: (r: ItemReader) => T | undefined): T | undefined {
    const first = this.items(tag)?.[0];
    return first ? read(first) : undefined;
  }
}
