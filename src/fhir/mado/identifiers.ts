/**
 * The identifiers of the manifest, in MADO's forms. Pure.
 *
 * UIDs are written as R4 ImagingStudy writes them (system urn:dicom:uid,
 * value `urn:oid:<uid>`), as MADO's envelope page has it for the
 * study-instance-uid search ("in the identifier it is prefixed with
 * urn:oid:"); the built-in endpoint matches them with or without the prefix.
 */
import { DCM_SYSTEM, DICOM_UID_SYSTEM, oidUri, V2_0203_SYSTEM } from '../systems.js';
import type { StudyModel } from '../study-model.js';
import { DCM_ACCESSION_NUMBER, DCM_STUDY_INSTANCE_UID } from './canonicals.js';
import type { Identifier } from './r4-types.js';

/** MadoStudyInstanceUidIdentifier: type DCM 110180, system urn:dicom:uid. */
export function studyInstanceUidIdentifier(studyInstanceUid: string): Identifier {
  return {
    type: { coding: [{ system: DCM_SYSTEM, ...DCM_STUDY_INSTANCE_UID }] },
    system: DICOM_UID_SYSTEM,
    value: oidUri(studyInstanceUid),
  };
}

/**
 * MadoAccessionNumberIdentifier: type v2-0203 ACSN and DCM 121022; system the
 * issuer (0008,0051) as the ImagingStudy mapping resolves it, else the
 * configured accession system (the profile requires one). Undefined without
 * an Accession Number.
 */
export function accessionNumberIdentifier(model: StudyModel, defaultSystem: string): Identifier | undefined {
  const acc = model.accession;
  if (!acc?.value) return undefined;
  const id: Identifier = {
    type: {
      coding: [
        { system: V2_0203_SYSTEM, code: 'ACSN', display: 'Accession ID' },
        { system: DCM_SYSTEM, ...DCM_ACCESSION_NUMBER },
      ],
    },
    system: acc.system ?? defaultSystem,
    value: acc.value,
  };
  if (acc.assigner?.display) id.assigner = { display: acc.assigner.display };
  return id;
}

/** The manifest's identifier: its UID (Bundle.identifier, Composition.identifier, DocumentReference.masterIdentifier). */
export function manifestIdentifier(uid: string): Identifier {
  return { system: DICOM_UID_SYSTEM, value: oidUri(uid) };
}

/** The token that finds the manifest's Bundle or DocumentReference: `urn:dicom:uid|urn:oid:<uid>`. */
export function manifestIdentifierToken(uid: string): string {
  return `${DICOM_UID_SYSTEM}|${oidUri(uid)}`;
}
