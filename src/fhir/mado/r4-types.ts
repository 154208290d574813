/**
 * The R4 resource types of the manifest and its envelope, Medplum's
 * (@medplum/fhirtypes, generated from the R4 StructureDefinitions) as object
 * types, so that they are assignable to FhirResource (see ../types/resource.ts).
 */
import type * as Medplum from '@medplum/fhirtypes';

type Plain<T> = { [K in keyof T]: T[K] };

export type {
  Attachment,
  BundleEntry,
  CodeableConcept,
  Coding,
  CompositionSection,
  DocumentReferenceContent,
  Extension,
  Identifier,
  Narrative,
  Reference,
} from '@medplum/fhirtypes';

export type ManifestBundle = Plain<Medplum.Bundle>;
export type Composition = Plain<Medplum.Composition>;
export type DocumentReference = Plain<Medplum.DocumentReference>;
export type Device = Plain<Medplum.Device>;
export type Organization = Plain<Medplum.Organization>;
export type ServiceRequest = Plain<Medplum.ServiceRequest>;
export type Endpoint = Plain<Medplum.Endpoint>;
export type ImagingStudy = Plain<Medplum.ImagingStudy>;
export type Patient = Plain<Medplum.Patient>;

/** A Reference to a Patient (subject of the envelope and the order). */
export type PatientReference = Medplum.Reference<Medplum.Patient>;
