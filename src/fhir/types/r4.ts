/**
 * FHIR R4 (4.0.1) resource types: Medplum's (@medplum/fhirtypes, generated
 * from the R4 StructureDefinitions), as object types so that they are
 * assignable to FhirResource (see resource.ts); their datatypes as they are.
 */
import type * as Medplum from '@medplum/fhirtypes';

/** The same members, as an object type rather than an interface (readonly and optional kept). */
type Plain<T> = { [K in keyof T]: T[K] };

export type {
  Attachment,
  BundleEntry,
  CodeableConcept,
  Coding,
  CompositionSection,
  DocumentReferenceContent,
  Extension,
  HumanName,
  Identifier,
  ImagingStudySeries,
  ImagingStudySeriesInstance,
  ImagingStudySeriesPerformer,
  Narrative,
  Reference,
} from '@medplum/fhirtypes';

export type ImagingStudy = Plain<Medplum.ImagingStudy>;
export type Patient = Plain<Medplum.Patient>;
export type Endpoint = Plain<Medplum.Endpoint>;
export type Basic = Plain<Medplum.Basic>;
export type CapabilityStatement = Plain<Medplum.CapabilityStatement>;
export type Composition = Plain<Medplum.Composition>;
export type DocumentReference = Plain<Medplum.DocumentReference>;
export type Device = Plain<Medplum.Device>;
export type Organization = Plain<Medplum.Organization>;
export type ServiceRequest = Plain<Medplum.ServiceRequest>;
/** A Bundle of R4 resources (the MADO manifest is a document Bundle). */
export type ManifestBundle = Plain<Medplum.Bundle>;
/** A Reference to a Patient (subject of the MADO envelope and the order). */
export type PatientReference = Medplum.Reference<Medplum.Patient>;
