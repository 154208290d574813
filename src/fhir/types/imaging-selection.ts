/**
 * FHIR R5 (5.0.0) ImagingSelection, the elements the bridge writes, in
 * specification order (hl7.fhir.r5.core StructureDefinition-ImagingSelection:
 * status 1..1 (modifier), code 1..1, instance.uid 1..1, the rest optional).
 */
import type { CodeableConcept, Coding, Extension, Identifier, Reference } from './r5.js';

export interface ImagingSelectionPerformer {
  function?: CodeableConcept;
  actor?: Reference;
}

export interface ImagingSelectionInstance {
  uid: string;
  number?: number;
  sopClass?: Coding;
  /** Frame numbers, segment numbers, ... as strings (content depends on the SOP class). */
  subset?: string[];
}

export type ImagingSelection = {
  resourceType: 'ImagingSelection';
  id?: string;
  extension?: Extension[];
  identifier?: Identifier[];
  status: 'available' | 'entered-in-error' | 'unknown';
  subject?: Reference;
  /** instant */
  issued?: string;
  performer?: ImagingSelectionPerformer[];
  basedOn?: Reference[];
  category?: CodeableConcept[];
  code: CodeableConcept;
  studyUid?: string;
  derivedFrom?: Reference[];
  endpoint?: Reference[];
  seriesUid?: string;
  seriesNumber?: number;
  frameOfReferenceUid?: string;
  instance?: ImagingSelectionInstance[];
};
