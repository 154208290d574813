/**
 * Which UIDs a C-STORE is stored and answered under (issue 19 item 9). dcmsend puts "31" in the
 * command's Affected SOP Class and Instance UID when the file's UIDs are encoded UN (pydicom's
 * rtdose_rle.dcm): it prints the UN bytes as hex and keeps the first byte. DCMTK's storescp takes
 * such a request as is. The bridge takes it too, with the data set's UIDs, when those are sound and the
 * data set's SOP Class is the presentation context's; and it answers with the UIDs it stored the
 * instance under, so that a 0000H always names a durable record (the DICOM fuzzer checks exactly that).
 */
import { uidSyntaxProblem } from '../dicom/uid-syntax.js';
import { Status } from './dimse-command.js';

/** A value present in a command that is no UID at all (PS3.5 9.1; ISO 8824: the root arc is 0, 1 or 2). */
export function isNoUid(value: string | undefined): boolean {
  if (value === undefined) return false;
  return uidSyntaxProblem(value) !== undefined || !/^[0-2](\.|$)/.test(value);
}

/** Whether the command's SOP Class fits the context, or is no UID and is checked against the data set later. */
export function commandSopClassFits(commandSopClassUid: string | undefined, abstractSyntax: string): boolean {
  return commandSopClassUid === abstractSyntax || isNoUid(commandSopClassUid);
}

export type StoreIdentity =
  | { sopClassUid: string; sopInstanceUid: string; /** the command's UIDs were no UIDs: the data set's are used */ fromDataSet: boolean }
  | { status: number; errorComment: string };

/**
 * The identity of a received instance: the command's when its UIDs are UIDs (the data set's SOP Instance
 * UID must be the same); the data set's when the command's are no UIDs (its SOP Class must then be the
 * context's, and a command SOP Instance UID that is a UID must still agree).
 */
export function storeIdentity(
  command: { affectedSopClassUid?: string; affectedSopInstanceUid?: string },
  abstractSyntax: string,
  dataSet: { sopClassUid: string; sopInstanceUid: string },
): StoreIdentity {
  const { affectedSopClassUid: commandClass, affectedSopInstanceUid: commandInstance } = command;
  const fromDataSet = isNoUid(commandClass) || isNoUid(commandInstance);
  if (fromDataSet && dataSet.sopClassUid !== abstractSyntax) {
    return { status: Status.SopClassNotSupported, errorComment: 'SOP Class differs from the presentation context' };
  }
  if (fromDataSet ? !isNoUid(commandInstance) && commandInstance !== dataSet.sopInstanceUid : commandInstance !== dataSet.sopInstanceUid) {
    return { status: Status.CannotUnderstand, errorComment: 'SOP Instance UID differs from Affected SOP Instance UID' };
  }
  return { sopClassUid: fromDataSet ? dataSet.sopClassUid : (commandClass ?? abstractSyntax), sopInstanceUid: dataSet.sopInstanceUid, fromDataSet };
}
