/**
 * StudyState → Patient (STU3, R4 or R5): identifier (system per
 * patient-identifier.ts), names from the PN groups (person-name.ts),
 * birthDate from (0010,0030) DA, gender from (0010,0040): M male, F female,
 * O other, anything else (or absent) unknown. Pure.
 */
import type { StudyState } from '../dicom/study-state.js';
import { toFhirDate } from './datetime.js';
import { reportDropped, type MappingOptions } from './mapping-options.js';
import { resolvePatientIdentifier } from './patient-identifier.js';
import { toHumanNames } from './person-name.js';
import type { Identifier } from './types/common.js';
import type * as R4 from './types/r4.js';
import type * as R5 from './types/r5.js';
import type * as STU3 from './types/stu3.js';

export type PatientResource = R4.Patient | R5.Patient | STU3.Patient;

const GENDER: Readonly<Record<string, 'male' | 'female' | 'other'>> = { M: 'male', F: 'female', O: 'other' };

export function patientGender(sex: string | undefined): 'male' | 'female' | 'other' | 'unknown' {
  const key = sex?.trim().toUpperCase() ?? '';
  return Object.prototype.hasOwnProperty.call(GENDER, key) ? GENDER[key]! : 'unknown';
}

export function mapPatient(state: StudyState, options: MappingOptions & { fhirVersion: 'R4' }): R4.Patient;
export function mapPatient(state: StudyState, options: MappingOptions & { fhirVersion: 'R5' }): R5.Patient;
export function mapPatient(state: StudyState, options: MappingOptions & { fhirVersion: 'STU3' }): STU3.Patient;
export function mapPatient(state: StudyState, options: MappingOptions): PatientResource;
export function mapPatient(state: StudyState, options: MappingOptions): PatientResource {
  const resolved = resolvePatientIdentifier(state, options);
  let identifier: Identifier[] | undefined;
  if (resolved) {
    const id: Identifier = { system: resolved.system, value: resolved.value };
    if (resolved.assignerDisplay) id.assigner = { display: resolved.assignerDisplay };
    identifier = [id];
  }
  const names = toHumanNames(state.patient.patientName);
  const birthDate = toFhirDate(state.patient.patientBirthDate, (what, value) => reportDropped(options, what, value), 'PatientBirthDate');
  // Same JSON shape in all three versions for these elements.
  const patient: R5.Patient = { resourceType: 'Patient' };
  if (identifier) patient.identifier = identifier;
  if (names.length) patient.name = names;
  patient.gender = patientGender(state.patient.patientSex);
  if (birthDate) patient.birthDate = birthDate;
  return patient;
}
