/**
 * MadoRequestedProcedure (profiles/ServiceRequest-RequestedProcedure.fsh): the
 * order of the study, where an accession number exists (the bridge reads no
 * placer or filler order number). identifier[accession-number] is the
 * MadoAccessionNumberIdentifier; status `completed` and intent `order` as the
 * profile suggests; code from (0032,1064) Requested Procedure Code Sequence,
 * else (0008,1032) Procedure Code Sequence. Pure.
 */
import type { StudyState } from '../../dicom/study-state.js';
import { codedEntryToConcept } from '../coding.js';
import { MADO_PROFILE } from './canonicals.js';
import type { CodeableConcept, Identifier, PatientReference, ServiceRequest } from './r4-types.js';

export function requestedProcedure(state: StudyState, accession: Identifier, subject: PatientReference): ServiceRequest {
  const codes = [...(state.study.requestedProcedureCodes ?? []), ...(state.study.procedureCodes ?? [])]
    .map(codedEntryToConcept)
    .filter((c): c is CodeableConcept => c !== undefined);
  return {
    resourceType: 'ServiceRequest',
    meta: { profile: [MADO_PROFILE.requestedProcedure] },
    identifier: [accession],
    status: 'completed',
    intent: 'order',
    ...(codes[0] ? { code: codes[0] } : {}),
    subject,
  };
}
