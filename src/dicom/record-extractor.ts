/**
 * Builds an InstanceRecord from the kept header bytes of one dataset (no
 * Part 10 preamble or meta information), parsed with dicom-parser. Strings
 * are decoded with the Specific Character Set and trimmed of padding;
 * absent, empty or invalid values are left out.
 */
import dicomParser from 'dicom-parser';
import type { ByteArrayParser, DataSet, Element } from 'dicom-parser';
import type { Logger } from 'pino';
import { splitPersonName, textDecoderFor, trimBoth, trimTrailing, type TextDecoderForDataset } from './charset.js';
import { rawString, valueBytes } from './element-bytes.js';
import { KEY_OBJECT_SELECTION_SOP_CLASS, readKeyObject, type KeyObjectDocument } from './key-object.js';
import type {
  CodedEntry,
  HierarchicDesignator,
  InstanceAttributes,
  PatientAttributes,
  PersonName,
  SeriesAttributes,
  StudyAttributes,
} from './instance-record.js';



/** The syntaxes dicom-parser understands for a raw dataset. */
export const PARSER_SYNTAX = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  explicitBig: '1.2.840.10008.1.2.2',
} as const;

/** Attribute tags, in dicom-parser's `xggggeeee` form, named by PS3.6 keyword. */
const TAG = {
  SpecificCharacterSet: 'x00080005',
  SOPClassUID: 'x00080016',
  SOPInstanceUID: 'x00080018',
  StudyDate: 'x00080020',
  SeriesDate: 'x00080021',
  StudyTime: 'x00080030',
  SeriesTime: 'x00080031',
  AccessionNumber: 'x00080050',
  IssuerOfAccessionNumberSequence: 'x00080051',
  Modality: 'x00080060',
  ReferringPhysicianName: 'x00080090',
  CodeValue: 'x00080100',
  CodingSchemeDesignator: 'x00080102',
  CodingSchemeVersion: 'x00080103',
  CodeMeaning: 'x00080104',
  LongCodeValue: 'x00080119',
  URNCodeValue: 'x00080120',
  TimezoneOffsetFromUTC: 'x00080201',
  StudyDescription: 'x00081030',
  ProcedureCodeSequence: 'x00081032',
  SeriesDescription: 'x0008103e',
  PerformingPhysicianName: 'x00081050',
  NameOfPhysiciansReadingStudy: 'x00081060',
  OperatorsName: 'x00081070',
  PatientName: 'x00100010',
  PatientID: 'x00100020',
  IssuerOfPatientID: 'x00100021',
  IssuerOfPatientIDQualifiersSequence: 'x00100024',
  PatientBirthDate: 'x00100030',
  PatientSex: 'x00100040',
  BodyPartExamined: 'x00180015',
  StudyInstanceUID: 'x0020000d',
  SeriesInstanceUID: 'x0020000e',
  StudyID: 'x00200010',
  SeriesNumber: 'x00200011',
  InstanceNumber: 'x00200013',
  Laterality: 'x00200060',
  ImageLaterality: 'x00200062',
  NumberOfFrames: 'x00280008',
  RequestedProcedureCodeSequence: 'x00321064',
  LocalNamespaceEntityID: 'x00400031',
  UniversalEntityID: 'x00400032',
  UniversalEntityIDType: 'x00400033',
  ReasonForTheRequestedProcedure: 'x00401002',
  ReasonForRequestedProcedureCodeSequence: 'x0040100a',
  ConceptNameCodeSequence: 'x0040a043',
  DocumentTitle: 'x00420010',
  ContentLabel: 'x00700080',
} as const;

/** The four UIDs without which an instance cannot be placed (PS3.4 B.4.1). */
const REQUIRED_UIDS = [
  ['StudyInstanceUID', 'Study Instance UID (0020,000D)'],
  ['SeriesInstanceUID', 'Series Instance UID (0020,000E)'],
  ['SOPInstanceUID', 'SOP Instance UID (0008,0018)'],
  ['SOPClassUID', 'SOP Class UID (0008,0016)'],
] as const;

/** VRs whose leading spaces are significant (PS3.5 Table 6.2-1). */
const KEEP_LEADING_SPACES = new Set(['LT', 'ST', 'UT']);

export interface ExtractedAttributes {
  specificCharacterSet?: string;
  patient: PatientAttributes;
  study: StudyAttributes;
  series: SeriesAttributes;
  instance: InstanceAttributes;
  keyObject?: KeyObjectDocument;
}

export class MissingAttributeError extends Error {
  override name = 'MissingAttributeError';
}

/** dicom-parser exports its DataSet class at run time but types it as an interface only. */
const DataSetClass = (dicomParser as unknown as {
  DataSet: new (parser: ByteArrayParser, byteArray: Uint8Array, elements: Record<string, Element>) => DataSet;
}).DataSet;

/**
 * Parses the header with dicom-parser. This is what parseDicom(bytes,
 * { TransferSyntaxUID }) runs for a dataset without meta information, minus
 * its Part 10 sniffing: with more than 132 bytes parseDicom looks for "DICM"
 * at offset 128, which a value in a raw dataset may happen to hold.
 * Throws whatever dicom-parser throws.
 */
export function parseHeader(bytes: Uint8Array, parserSyntax: string): DataSet {
  const parser =
    parserSyntax === PARSER_SYNTAX.explicitBig ? dicomParser.bigEndianByteArrayParser : dicomParser.littleEndianByteArrayParser;
  const stream = new dicomParser.ByteStream(parser, bytes, 0);
  const dataSet = new DataSetClass(parser, bytes, {});
  if (parserSyntax === PARSER_SYNTAX.implicitLittle) dicomParser.parseDicomDataSetImplicit(dataSet, stream, bytes.length);
  else dicomParser.parseDicomDataSetExplicit(dataSet, stream, bytes.length);
  return dataSet;
}

/** Reads the attributes the mapping needs. Throws MissingAttributeError for a missing required UID. */
export function extractAttributes(dataSet: DataSet, log: Logger): ExtractedAttributes {
  const rawCharset = rawString(dataSet, TAG.SpecificCharacterSet);
  const specificCharacterSet = rawCharset === undefined ? undefined : trimTrailing(rawCharset) || undefined;
  const decoder = textDecoderFor(specificCharacterSet);
  if (decoder.unknownTerms.length > 0) {
    log.debug({ unknownTerms: decoder.unknownTerms, using: decoder.characterSet }, 'unknown Specific Character Set terms');
  }
  const r = new Reader(dataSet, decoder, log);

  const uids: Record<string, string> = {};
  for (const [keyword, label] of REQUIRED_UIDS) {
    const uid = r.uid(TAG[keyword]);
    if (uid === undefined) throw new MissingAttributeError(`missing ${label}`);
    uids[keyword] = uid;
  }

  const patient: PatientAttributes = {};
  assign(patient, 'patientName', r.personName(TAG.PatientName));
  assign(patient, 'patientId', r.text(TAG.PatientID, 'LO'));
  assign(patient, 'issuerOfPatientId', r.text(TAG.IssuerOfPatientID, 'LO'));
  assign(patient, 'issuerOfPatientIdQualifiers', r.firstItem(TAG.IssuerOfPatientIDQualifiersSequence, hierarchicDesignator));
  assign(patient, 'patientBirthDate', r.text(TAG.PatientBirthDate, 'DA'));
  assign(patient, 'patientSex', r.text(TAG.PatientSex, 'CS'));

  const study: StudyAttributes = { studyInstanceUid: uids.StudyInstanceUID! };
  assign(study, 'studyDate', r.text(TAG.StudyDate, 'DA'));
  assign(study, 'studyTime', r.text(TAG.StudyTime, 'TM'));
  assign(study, 'timezoneOffsetFromUtc', r.text(TAG.TimezoneOffsetFromUTC, 'SH'));
  assign(study, 'accessionNumber', r.text(TAG.AccessionNumber, 'SH'));
  assign(study, 'issuerOfAccessionNumber', r.firstItem(TAG.IssuerOfAccessionNumberSequence, hierarchicDesignator));
  assign(study, 'studyId', r.text(TAG.StudyID, 'SH'));
  assign(study, 'studyDescription', r.text(TAG.StudyDescription, 'LO'));
  assign(study, 'referringPhysicianName', r.personName(TAG.ReferringPhysicianName));
  assign(study, 'physiciansReadingStudy', r.personNames(TAG.NameOfPhysiciansReadingStudy));
  assign(study, 'procedureCodes', r.items(TAG.ProcedureCodeSequence, codedEntry));
  assign(study, 'requestedProcedureCodes', r.items(TAG.RequestedProcedureCodeSequence, codedEntry));
  assign(study, 'reasonForRequestedProcedure', r.text(TAG.ReasonForTheRequestedProcedure, 'LO'));
  assign(study, 'reasonForRequestedProcedureCodes', r.items(TAG.ReasonForRequestedProcedureCodeSequence, codedEntry));

  const series: SeriesAttributes = { seriesInstanceUid: uids.SeriesInstanceUID! };
  assign(series, 'seriesNumber', r.integer(TAG.SeriesNumber));
  assign(series, 'modality', r.text(TAG.Modality, 'CS'));
  assign(series, 'seriesDescription', r.text(TAG.SeriesDescription, 'LO'));
  assign(series, 'bodyPartExamined', r.text(TAG.BodyPartExamined, 'CS'));
  assign(series, 'laterality', r.text(TAG.Laterality, 'CS'));
  assign(series, 'imageLaterality', r.text(TAG.ImageLaterality, 'CS'));
  assign(series, 'seriesDate', r.text(TAG.SeriesDate, 'DA'));
  assign(series, 'seriesTime', r.text(TAG.SeriesTime, 'TM'));
  assign(series, 'performingPhysicianName', r.personNames(TAG.PerformingPhysicianName));
  assign(series, 'operatorsName', r.personNames(TAG.OperatorsName));

  const instance: InstanceAttributes = { sopInstanceUid: uids.SOPInstanceUID!, sopClassUid: uids.SOPClassUID! };
  assign(instance, 'instanceNumber', r.integer(TAG.InstanceNumber));
  assign(instance, 'contentLabel', r.text(TAG.ContentLabel, 'CS'));
  assign(instance, 'documentTitle', r.text(TAG.DocumentTitle, 'ST'));
  assign(instance, 'conceptNameCode', r.firstItem(TAG.ConceptNameCodeSequence, codedEntry));
  assign(instance, 'numberOfFrames', r.integer(TAG.NumberOfFrames));

  const attributes: ExtractedAttributes = { patient, study, series, instance };
  if (specificCharacterSet !== undefined) attributes.specificCharacterSet = specificCharacterSet;
  if (instance.sopClassUid === KEY_OBJECT_SELECTION_SOP_CLASS) assign(attributes, 'keyObject', readKeyObject(dataSet, log, decoder));
  return attributes;
}

function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function codedEntry(r: Reader): CodedEntry | undefined {
  const entry: CodedEntry = {};
  assign(entry, 'codeValue', r.text(TAG.CodeValue, 'SH') ?? r.text(TAG.LongCodeValue, 'UC') ?? r.text(TAG.URNCodeValue, 'UR'));
  assign(entry, 'codingSchemeDesignator', r.text(TAG.CodingSchemeDesignator, 'SH'));
  assign(entry, 'codingSchemeVersion', r.text(TAG.CodingSchemeVersion, 'SH'));
  assign(entry, 'codeMeaning', r.text(TAG.CodeMeaning, 'LO'));
  return Object.keys(entry).length > 0 ? entry : undefined;
}

function hierarchicDesignator(r: Reader): HierarchicDesignator | undefined {
  const designator: HierarchicDesignator = {};
  assign(designator, 'localNamespaceEntityId', r.text(TAG.LocalNamespaceEntityID, 'UT'));
  assign(designator, 'universalEntityId', r.text(TAG.UniversalEntityID, 'UT'));
  assign(designator, 'universalEntityIdType', r.text(TAG.UniversalEntityIDType, 'CS'));
  return Object.keys(designator).length > 0 ? designator : undefined;
}

/** Typed reads from one dataset (the top level or a sequence item). */
class Reader {
  constructor(
    private readonly dataSet: DataSet,
    private readonly decoder: TextDecoderForDataset,
    private readonly log: Logger,
  ) {}

  /** UI: ASCII, padded with a trailing NUL. */
  uid(tag: string): string | undefined {
    const raw = rawString(this.dataSet, tag);
    if (raw === undefined) return undefined;
    return trimBoth(raw) || undefined;
  }

  /** A single text value, decoded and trimmed. */
  text(tag: string, vr: string): string | undefined {
    const bytes = valueBytes(this.dataSet, tag);
    if (!bytes) return undefined;
    const decoded = this.decoder.decode(bytes, vr);
    const text = KEEP_LEADING_SPACES.has(vr) ? trimTrailing(decoded) : trimBoth(decoded);
    return text === '' ? undefined : text;
  }

  /** IS as an integer; invalid values are left out (logged at debug). */
  integer(tag: string): number | undefined {
    const raw = this.uid(tag);
    if (raw === undefined) return undefined;
    const first = trimBoth(raw.split('\\')[0]!);
    if (/^[+-]?\d{1,12}$/.test(first)) return Number.parseInt(first, 10);
    this.log.debug({ tag }, 'invalid IS value left out');
    return undefined;
  }

  personName(tag: string): PersonName | undefined {
    return this.personNames(tag)?.[0];
  }

  personNames(tag: string): PersonName[] | undefined {
    const bytes = valueBytes(this.dataSet, tag);
    if (!bytes) return undefined;
    const names: PersonName[] = [];
    for (const value of this.decoder.decode(bytes, 'PN').split('\\')) {
      const name = splitPersonName(value);
      if (name) names.push(name);
    }
    return names.length > 0 ? names : undefined;
  }

  items<T>(tag: string, read: (item: Reader) => T | undefined): T[] | undefined {
    const items = this.dataSet.elements[tag]?.items;
    if (!items) return undefined;
    const out: T[] = [];
    for (const item of items) {
      if (!item.dataSet) continue;
      const value = read(this.itemReader(item.dataSet));
      if (value !== undefined) out.push(value);
    }
    return out.length > 0 ? out : undefined;
  }

  firstItem<T>(tag: string, read: (item: Reader) => T | undefined): T | undefined {
    const item = this.dataSet.elements[tag]?.items?.[0];
    return item?.dataSet ? read(this.itemReader(item.dataSet)) : undefined;
  }

  /** An item may declare its own Specific Character Set (PS3.5 6.1.2.5.3 note). */
  private itemReader(item: DataSet): Reader {
    const own = rawString(item, TAG.SpecificCharacterSet);
    const decoder = own === undefined ? this.decoder : textDecoderFor(trimTrailing(own) || undefined);
    return new Reader(item, decoder, this.log);
  }
}
