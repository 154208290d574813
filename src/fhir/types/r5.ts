/**
 * FHIR R5 (5.0.0) resource types for what the bridge writes, element order
 * and cardinality from hl7.fhir.r5.core 5.0.0 (StructureDefinitions and
 * openapi/fhir.schema.json). Only elements the bridge can populate are typed.
 */
import type { CodeableConcept, Coding, Extension, HumanName, Identifier, Reference as BaseReference } from './common.js';

export type { CodeableConcept, Coding, Extension, HumanName, Identifier };

export interface Reference extends BaseReference {
  type?: string;
}

export interface CodeableReference {
  concept?: CodeableConcept;
  reference?: Reference;
}

export interface ImagingStudySeriesPerformer {
  function?: CodeableConcept;
  actor: Reference;
}

export interface ImagingStudySeriesInstance {
  uid: string;
  sopClass: Coding;
  number?: number;
  title?: string;
}

export interface ImagingStudySeries {
  uid: string;
  number?: number;
  modality: CodeableConcept;
  description?: string;
  numberOfInstances?: number;
  endpoint?: Reference[];
  bodySite?: CodeableReference;
  laterality?: CodeableConcept;
  specimen?: Reference[];
  started?: string;
  performer?: ImagingStudySeriesPerformer[];
  instance?: ImagingStudySeriesInstance[];
}

export interface ImagingStudy {
  resourceType: 'ImagingStudy';
  id?: string;
  extension?: Extension[];
  identifier?: Identifier[];
  status: 'registered' | 'available' | 'cancelled' | 'entered-in-error' | 'unknown';
  modality?: CodeableConcept[];
  subject: Reference;
  encounter?: Reference;
  started?: string;
  basedOn?: Reference[];
  partOf?: Reference[];
  referrer?: Reference;
  endpoint?: Reference[];
  numberOfSeries?: number;
  numberOfInstances?: number;
  procedure?: CodeableReference[];
  location?: Reference;
  reason?: CodeableReference[];
  description?: string;
  series?: ImagingStudySeries[];
}

export interface Patient {
  resourceType: 'Patient';
  id?: string;
  identifier?: Identifier[];
  active?: boolean;
  name?: HumanName[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  birthDate?: string;
}

export interface EndpointPayload {
  type?: CodeableConcept[];
  mimeType?: string[];
}

export interface Endpoint {
  resourceType: 'Endpoint';
  id?: string;
  identifier?: Identifier[];
  status: 'active' | 'suspended' | 'error' | 'off' | 'entered-in-error';
  connectionType: CodeableConcept[];
  name?: string;
  payload?: EndpointPayload[];
  address: string;
}
