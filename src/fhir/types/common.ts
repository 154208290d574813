/**
 * Datatypes whose JSON shape is the same in FHIR STU3 (3.0.2), R4 (4.0.1) and
 * R5 (5.0.0) for the elements this bridge writes. Used by the hand-written R5
 * and STU3 resource types (the published npm type packages for those versions
 * either lack ImagingStudy/Endpoint or type dateTime as a JS Date).
 */
export interface Extension {
  url: string;
  valueCode?: string;
  valueString?: string;
}

export interface Coding {
  extension?: Extension[];
  system?: string;
  version?: string;
  code?: string;
  display?: string;
  userSelected?: boolean;
}

export interface CodeableConcept {
  extension?: Extension[];
  coding?: Coding[];
  text?: string;
}

export interface Period {
  start?: string;
  end?: string;
}

export interface Identifier {
  use?: 'usual' | 'official' | 'temp' | 'secondary' | 'old';
  type?: CodeableConcept;
  system?: string;
  value?: string;
  period?: Period;
  assigner?: Reference;
}

/** STU3 Reference has no `type`; R4/R5 have it (see the per-version types). */
export interface Reference {
  extension?: Extension[];
  reference?: string;
  identifier?: Identifier;
  display?: string;
}

export interface HumanName {
  extension?: Extension[];
  use?: 'usual' | 'official' | 'temp' | 'nickname' | 'anonymous' | 'old' | 'maiden';
  text?: string;
  family?: string;
  given?: string[];
  prefix?: string[];
  suffix?: string[];
  period?: Period;
}
