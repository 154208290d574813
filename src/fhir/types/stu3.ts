/**
 * FHIR STU3 (3.0.x) resource types for what the bridge writes, element order
 * and cardinality from the STU3 ImagingStudy, Patient and Endpoint pages.
 * (@smile-cdr/fhirts 2.4.1 `fhirR3` has no ImagingStudy or Endpoint class,
 * and its DomainResource makes text/contained mandatory, so these are ours.)
 * STU3 Reference has no `type` element; `oid` values are `urn:oid:<uid>`.
 * CapabilityStatement from the STU3 CapabilityStatement page (3.0.2).
 * Resources are object types, not interfaces (see resource.ts).
 */
import type { CodeableConcept, Coding, Extension, HumanName, Identifier, Reference } from './common.js';

export type { CodeableConcept, Coding, Extension, HumanName, Identifier, Reference };

export type Availability = 'ONLINE' | 'OFFLINE' | 'NEARLINE' | 'UNAVAILABLE';

export interface ImagingStudySeriesInstance {
  uid: string;
  number?: number;
  sopClass: string;
  title?: string;
}

export interface ImagingStudySeries {
  uid: string;
  number?: number;
  modality: Coding;
  description?: string;
  numberOfInstances?: number;
  availability?: Availability;
  endpoint?: Reference[];
  bodySite?: Coding;
  laterality?: Coding;
  started?: string;
  performer?: Reference[];
  instance?: ImagingStudySeriesInstance[];
}

export type ImagingStudy = {
  resourceType: 'ImagingStudy';
  id?: string;
  extension?: Extension[];
  uid: string;
  accession?: Identifier;
  identifier?: Identifier[];
  availability?: Availability;
  modalityList?: Coding[];
  patient: Reference;
  context?: Reference;
  started?: string;
  basedOn?: Reference[];
  referrer?: Reference;
  interpreter?: Reference[];
  endpoint?: Reference[];
  numberOfSeries: number;
  numberOfInstances: number;
  procedureReference?: Reference[];
  procedureCode?: CodeableConcept[];
  reason?: CodeableConcept;
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

export type Endpoint = {
  resourceType: 'Endpoint';
  id?: string;
  identifier?: Identifier[];
  status: 'active' | 'suspended' | 'error' | 'off' | 'entered-in-error' | 'test';
  connectionType: Coding;
  name?: string;
  payloadType: CodeableConcept[];
  payloadMimeType?: string[];
  address: string;
};

/**
 * The element names of STU3 ImagingStudy (resource, series, series.instance),
 * in specification order, from the STU3 ImagingStudy page (3.0.2). Used by the
 * STU3 shape check; base Resource/DomainResource elements are listed too.
 */
export const STU3_IMAGING_STUDY_ELEMENTS = {
  resource: [
    'resourceType', 'id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension',
    'uid', 'accession', 'identifier', 'availability', 'modalityList', 'patient', 'context', 'started', 'basedOn',
    'referrer', 'interpreter', 'endpoint', 'numberOfSeries', 'numberOfInstances', 'procedureReference',
    'procedureCode', 'reason', 'description', 'series',
  ],
  series: [
    'id', 'extension', 'modifierExtension',
    'uid', 'number', 'modality', 'description', 'numberOfInstances', 'availability', 'endpoint', 'bodySite',
    'laterality', 'started', 'performer', 'instance',
  ],
  instance: ['id', 'extension', 'modifierExtension', 'uid', 'number', 'sopClass', 'title'],
} as const;

export type RestfulInteraction = 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type';

export interface CapabilityStatementSearchParam {
  name: string;
  definition?: string;
  type: 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri';
  documentation?: string;
}

export interface CapabilityStatementRestResource {
  type: string;
  documentation?: string;
  interaction: Array<{ code: RestfulInteraction; documentation?: string }>;
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

/** STU3 (3.0.2): acceptUnknown 1..1 (gone in R4); interaction 1..* per resource. */
export type CapabilityStatement = {
  resourceType: 'CapabilityStatement';
  id?: string;
  status: 'draft' | 'active' | 'retired' | 'unknown';
  date: string;
  publisher?: string;
  kind: 'instance' | 'capability' | 'requirements';
  software?: { name: string; version?: string; releaseDate?: string };
  implementation?: { description: string; url?: string };
  /** FHIR version id, e.g. 3.0.2. */
  fhirVersion: string;
  acceptUnknown: 'no' | 'extensions' | 'elements' | 'both';
  format: string[];
  rest?: CapabilityStatementRest[];
};
