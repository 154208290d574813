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
import { errorMessage } from '../errors.js';
import type { Logger } from 'pino';
import { codedEntry } from './attribute-macros.js';
import type { PersonName } from './attribute-values.js';
import type { DatasetReader } from './dataset-reader.js';
import { rejectionReasonOf, type KeyObjectDocument, type KeyObjectReference } from './key-object-document.js';
import { TAG } from './tags.js';

/** Concept names of TID 2010 / TID 1002 content items (DCM). */
const KEY_OBJECT_DESCRIPTION = '113012';
const PERSON_OBSERVER_NAME = '121008';
/** Content item value types that reference a composite instance (PS3.3 C.17.3.2.1). */
const REFERENCE_VALUE_TYPES = new Set(['IMAGE', 'COMPOSITE', 'WAVEFORM']);

/**
 * Reads the KOS content of a dataset; undefined (debug log) when it is not
 * usable. Never throws.
 */
export function readKeyObject(root: DatasetReader, log: Logger): KeyObjectDocument | undefined {
  try {
    return read(root, log);
  } catch (error) {
    log.debug({ err: errorMessage(error) }, 'key object selection document not read');
    return undefined;
  }
}

const itself = (item: DatasetReader): DatasetReader => item;

function read(root: DatasetReader, log: Logger): KeyObjectDocument | undefined {
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

  const content = root.items(TAG.ContentSequence, itself) ?? [];
  let description: string | undefined;
  let observer: PersonName | undefined;
  /** Per SOP Instance UID: frame/segment lists of each content item; [] = whole instance. */
  const selections = new Map<string, { frames: number[][]; segments: number[][]; whole: boolean }>();
  for (const item of content) {
    const valueType = item.text(TAG.ValueType);
    const concept = item.firstItem(TAG.ConceptNameCodeSequence, codedEntry);
    const isDcm = concept?.codingSchemeDesignator === 'DCM';
    if (valueType === 'TEXT' && isDcm && concept?.codeValue === KEY_OBJECT_DESCRIPTION) {
      description ??= item.text(TAG.TextValue);
    } else if (valueType === 'PNAME' && isDcm && concept?.codeValue === PERSON_OBSERVER_NAME) {
      observer ??= item.personName(TAG.PersonName);
    } else if (valueType !== undefined && REFERENCE_VALUE_TYPES.has(valueType)) {
      for (const sop of item.items(TAG.ReferencedSOPSequence, itself) ?? []) {
        const uid = sop.uid(TAG.ReferencedSOPInstanceUID);
        if (!uid) {
          log.debug({ valueType }, 'content item reference without SOP Instance UID: skipped');
          continue;
        }
        if (!evidence.has(uid)) {
          log.debug({ sopInstanceUid: uid }, 'content item reference not in the evidence sequence: skipped');
          continue;
        }
        const frames = positive(sop.integers(TAG.ReferencedFrameNumber));
        const segments = positive(sop.unsignedShorts(TAG.ReferencedSegmentNumber));
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
  const contentDate = root.text(TAG.ContentDate);
  if (contentDate !== undefined) doc.contentDate = contentDate;
  const contentTime = root.text(TAG.ContentTime);
  if (contentTime !== undefined) doc.contentTime = contentTime;
  if (observer) doc.observer = observer;
  return doc;
}

/** Evidence instances by SOP Instance UID, in document order. */
function readEvidence(root: DatasetReader, log: Logger): Map<string, KeyObjectReference> {
  const out = new Map<string, KeyObjectReference>();
  for (const study of root.items(TAG.CurrentRequestedProcedureEvidenceSequence, itself) ?? []) {
    const studyUid = study.uid(TAG.StudyInstanceUID);
    if (!studyUid) {
      log.debug('evidence study item without Study Instance UID: skipped');
      continue;
    }
    const studyAe = study.text(TAG.RetrieveAETitle);
    const studyUrl = study.text(TAG.RetrieveURL);
    for (const series of study.items(TAG.ReferencedSeriesSequence, itself) ?? []) {
      const seriesUid = series.uid(TAG.SeriesInstanceUID);
      if (!seriesUid) {
        log.debug('evidence series item without Series Instance UID: skipped');
        continue;
      }
      const ae = series.text(TAG.RetrieveAETitle) ?? studyAe;
      const url = series.text(TAG.RetrieveURL) ?? studyUrl;
      for (const sop of series.items(TAG.ReferencedSOPSequence, itself) ?? []) {
        const sopInstanceUid = sop.uid(TAG.ReferencedSOPInstanceUID);
        const sopClassUid = sop.uid(TAG.ReferencedSOPClassUID);
        if (!sopInstanceUid || !sopClassUid) {
          log.debug('evidence SOP item without SOP Class or Instance UID: skipped');
          continue;
        }
        const ref: KeyObjectReference = { studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, sopClassUid, sopInstanceUid };
        const frames = positive(sop.integers(TAG.ReferencedFrameNumber));
        if (frames) ref.frames = union([frames], undefined)!;
        if (ae !== undefined) ref.retrieveAeTitle = ae;
        if (url !== undefined) ref.retrieveUrl = url;
        if (!out.has(sopInstanceUid)) out.set(sopInstanceUid, ref);
      }
    }
  }
  return out;
}

function authorObserver(root: DatasetReader): PersonName | undefined {
  for (const item of root.items(TAG.AuthorObserverSequence, itself) ?? []) {
    const type = item.text(TAG.ObserverType);
    if (type !== undefined && type !== 'PSN') continue;
    const name = item.personName(TAG.PersonName);
    if (name) return name;
  }
  return undefined;
}

/** Frame and segment numbers start at 1; undefined when none is left. */
function positive(numbers: number[] | undefined): number[] | undefined {
  const out = numbers?.filter((n) => n >= 1);
  return out && out.length > 0 ? out : undefined;
}

function union(lists: number[][], extra: number[] | undefined): number[] | undefined {
  const all = new Set<number>([...lists.flat(), ...(extra ?? [])]);
  return all.size > 0 ? [...all].sort((a, b) => a - b) : undefined;
}
