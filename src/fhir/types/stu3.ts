/**
 * FHIR STU3 (3.0.x) resource types for what the bridge writes, element order
 * and cardinality from the STU3 ImagingStudy, Patient and Endpoint pages.
 * (@smile-cdr/fhirts 2.4.1 `fhirR3` has no ImagingStudy or Endpoint class,
 * and its DomainResource makes text/contained mandatory, so these are ours.)
 * STU3 Reference has no `type` element; `oid` values are `urn:oid:<uid>`.
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

export interface ImagingStudy {
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

export interface Endpoint {
  resourceType: 'Endpoint';
  id?: string;
  identifier?: Identifier[];
  status: 'active' | 'suspended' | 'error' | 'off' | 'entered-in-error' | 'test';
  connectionType: Coding;
  name?: string;
  payloadType: CodeableConcept[];
  payloadMimeType?: string[];
  address: string;
}

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
