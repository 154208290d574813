/**
 * FHIR R5 (5.0.0) resource types for what the bridge writes, element order
 * and cardinality from hl7.fhir.r5.core 5.0.0 (StructureDefinitions and
 * openapi/fhir.schema.json). Only elements the bridge can populate (and, for
 * CapabilityStatement, the ones it writes and reads) are typed. Resources are
 * object types, not interfaces (see resource.ts).
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

export type ImagingStudy = {
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
};

export type Patient = {
  resourceType: 'Patient';
  id?: string;
  identifier?: Identifier[];
  active?: boolean;
  name?: HumanName[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  birthDate?: string;
};

export interface EndpointPayload {
  type?: CodeableConcept[];
  mimeType?: string[];
}

export type Endpoint = {
  resourceType: 'Endpoint';
  id?: string;
  identifier?: Identifier[];
  status: 'active' | 'suspended' | 'error' | 'off' | 'entered-in-error';
  connectionType: CodeableConcept[];
  name?: string;
  payload?: EndpointPayload[];
  address: string;
};

export type RestfulInteraction = 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type';

export interface CapabilityStatementSearchParam {
  name: string;
  definition?: string;
  type: 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special' | 'resource';
  documentation?: string;
}

export interface CapabilityStatementRestResource {
  type: string;
  documentation?: string;
  interaction?: Array<{ code: RestfulInteraction; documentation?: string }>;
  versioning?: 'no-version' | 'versioned' | 'versioned-update';
  readHistory?: boolean;
  updateCreate?: boolean;
  conditionalCreate?: boolean;
  conditionalUpdate?: boolean;
  searchParam?: CapabilityStatementSearchParam[];
}

export interface CapabilityStatementRest {
  mode: 'client' | 'server';
  documentation?: string;
  security?: { cors?: boolean; service?: CodeableConcept[]; description?: string };
  resource?: CapabilityStatementRestResource[];
}

export type CapabilityStatement = {
  resourceType: 'CapabilityStatement';
  id?: string;
  status: 'draft' | 'active' | 'retired' | 'unknown';
  date: string;
  publisher?: string;
  kind: 'instance' | 'capability' | 'requirements';
  software?: { name: string; version?: string; releaseDate?: string };
  implementation?: { description: string; url?: string };
  /** FHIRVersion code, e.g. 5.0.0. */
  fhirVersion: string;
  format: string[];
  rest?: CapabilityStatementRest[];
};
