/**
 * Builds an InstanceRecord from the kept header bytes of one dataset (no
 * Part 10 preamble or meta information), parsed with dicom-parser. Strings
 * are decoded with the Specific Character Set and trimmed of padding;
 * absent, empty or invalid values are left out.
 */
import dicomParser from 'dicom-parser';
import type { ByteArrayParser, DataSet, Element } from 'dicom-parser';
import type { Logger } from 'pino';
import { codedEntry, hierarchicDesignator } from './attribute-macros.js';
import { textDecoderFor, trimTrailing } from './charset.js';
import { DatasetReader } from './dataset-reader.js';
import { rawString } from './element-bytes.js';
import type { InstanceAttributes, PatientAttributes, SeriesAttributes, StudyAttributes } from './instance-record.js';
import { readKeyObject } from './key-object.js';
import { KEY_OBJECT_SELECTION_SOP_CLASS, type KeyObjectDocument } from './key-object-document.js';
import { attributeLabel, TAG, type AttributeTag } from './tags.js';
import { uidSyntaxProblem } from './uid-syntax.js';

/** The syntaxes dicom-parser understands for a raw dataset. */
export const PARSER_SYNTAX = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  explicitBig: '1.2.840.10008.1.2.2',
} as const;

/** The four UIDs without which an instance cannot be placed (PS3.4 B.4.1), with their error messages. */
const REQUIRED_UIDS: readonly (readonly [AttributeTag, string])[] = [TAG.StudyInstanceUID, TAG.SeriesInstanceUID, TAG.SOPInstanceUID, TAG.SOPClassUID].map(
  (attribute) => [attribute, `missing ${attributeLabel(attribute)}`] as const,
);

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

/** A required UID whose value is not a UID (PS3.5 9.1): as good as missing, the instance cannot be placed. */
export class InvalidUidError extends MissingAttributeError {
  override name = 'InvalidUidError';
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

/**
 * Reads the attributes the mapping needs. Throws MissingAttributeError for a
 * missing required UID. A Patient ID that does not decode cleanly is kept as
 * its bytes and logged at warn (with no patient data).
 */
export function extractAttributes(dataSet: DataSet, log: Logger): ExtractedAttributes {
  const rawCharset = rawString(dataSet, TAG.SpecificCharacterSet.tag);
  const specificCharacterSet = rawCharset === undefined ? undefined : trimTrailing(rawCharset) || undefined;
  const decoder = textDecoderFor(specificCharacterSet);
  if (decoder.unknownTerms.length > 0) {
    log.debug({ unknownTerms: decoder.unknownTerms, using: decoder.characterSet }, 'unknown Specific Character Set terms');
  }
  const r = new DatasetReader(dataSet, decoder, log);
  const studyInstanceUid = requiredUid(r, 0);
  const seriesInstanceUid = requiredUid(r, 1);
  const sopInstanceUid = requiredUid(r, 2);
  const sopClassUid = requiredUid(r, 3);

  const patient: PatientAttributes = {};
  assign(patient, 'patientName', r.personName(TAG.PatientName));
  assign(patient, 'patientId', r.identifier(TAG.PatientID));
  assign(patient, 'issuerOfPatientId', r.text(TAG.IssuerOfPatientID));
  assign(patient, 'issuerOfPatientIdQualifiers', r.firstItem(TAG.IssuerOfPatientIDQualifiersSequence, hierarchicDesignator));
  assign(patient, 'patientBirthDate', r.text(TAG.PatientBirthDate));
  assign(patient, 'patientSex', r.text(TAG.PatientSex));

  const study: StudyAttributes = { studyInstanceUid };
  assign(study, 'studyDate', r.text(TAG.StudyDate));
  assign(study, 'studyTime', r.text(TAG.StudyTime));
  assign(study, 'timezoneOffsetFromUtc', r.text(TAG.TimezoneOffsetFromUTC));
  assign(study, 'accessionNumber', r.text(TAG.AccessionNumber));
  assign(study, 'issuerOfAccessionNumber', r.firstItem(TAG.IssuerOfAccessionNumberSequence, hierarchicDesignator));
  assign(study, 'studyId', r.text(TAG.StudyID));
  assign(study, 'studyDescription', r.text(TAG.StudyDescription));
  assign(study, 'referringPhysicianName', r.personName(TAG.ReferringPhysicianName));
  assign(study, 'physiciansReadingStudy', r.personNames(TAG.NameOfPhysiciansReadingStudy));
  assign(study, 'procedureCodes', r.items(TAG.ProcedureCodeSequence, codedEntry));
  assign(study, 'requestedProcedureCodes', r.items(TAG.RequestedProcedureCodeSequence, codedEntry));
  assign(study, 'requestedProcedureDescription', r.text(TAG.RequestedProcedureDescription));
  assign(study, 'reasonForRequestedProcedure', r.text(TAG.ReasonForTheRequestedProcedure));
  assign(study, 'reasonForRequestedProcedureCodes', r.items(TAG.ReasonForRequestedProcedureCodeSequence, codedEntry));
  assign(study, 'performedLocation', r.text(TAG.PerformedLocation));
  assign(study, 'institutionalDepartmentName', r.text(TAG.InstitutionalDepartmentName));

  const series: SeriesAttributes = { seriesInstanceUid };
  assign(series, 'seriesNumber', r.integer(TAG.SeriesNumber));
  assign(series, 'modality', r.text(TAG.Modality));
  assign(series, 'seriesDescription', r.text(TAG.SeriesDescription));
  assign(series, 'bodyPartExamined', r.text(TAG.BodyPartExamined));
  assign(series, 'anatomicRegion', r.firstItem(TAG.AnatomicRegionSequence, codedEntry));
  assign(series, 'laterality', r.text(TAG.Laterality));
  assign(series, 'imageLaterality', r.text(TAG.ImageLaterality));
  assign(series, 'seriesDate', r.text(TAG.SeriesDate));
  assign(series, 'seriesTime', r.text(TAG.SeriesTime));
  assign(series, 'performingPhysicianName', r.personNames(TAG.PerformingPhysicianName));
  assign(series, 'operatorsName', r.personNames(TAG.OperatorsName));

  const instance: InstanceAttributes = { sopInstanceUid, sopClassUid };
  assign(instance, 'instanceNumber', r.integer(TAG.InstanceNumber));
  assign(instance, 'contentLabel', r.text(TAG.ContentLabel));
  assign(instance, 'documentTitle', r.text(TAG.DocumentTitle));
  assign(instance, 'conceptNameCode', r.firstItem(TAG.ConceptNameCodeSequence, codedEntry));
  assign(instance, 'numberOfFrames', r.integer(TAG.NumberOfFrames));
  assign(instance, 'structureSetLabel', r.text(TAG.StructureSetLabel));
  // Per image too: series laterality is derived from every image of the series, not the latest one.
  assign(instance, 'imageLaterality', r.text(TAG.ImageLaterality));

  if (r.keptAsBytes) {
    // The instance and the attribute, never the value: it is patient data.
    log.warn(
      { sopInstanceUid, specificCharacterSet, attributes: r.keptAsBytes },
      'value not decodable with the Specific Character Set: kept as its bytes',
    );
  }

  const attributes: ExtractedAttributes = { patient, study, series, instance };
  if (specificCharacterSet !== undefined) attributes.specificCharacterSet = specificCharacterSet;
  if (sopClassUid === KEY_OBJECT_SELECTION_SOP_CLASS) assign(attributes, 'keyObject', readKeyObject(r, log));
  return attributes;
}

function requiredUid(r: DatasetReader, index: number): string {
  const [attribute, message] = REQUIRED_UIDS[index]!;
  const uid = r.uid(attribute);
  if (uid === undefined) throw new MissingAttributeError(message);
  const problem = uidSyntaxProblem(uid);
  if (problem !== undefined) throw new InvalidUidError(`${attributeLabel(attribute)} invalid: ${problem}`);
  return uid;
}

function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}
