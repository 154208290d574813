/**
 * The resources the bridge writes (to a FHIR server) and serves (from its
 * built-in endpoint), per FHIR version, as one union each; `ResourceOf`
 * picks a type of a version: `ResourceOf<'R5', 'ImagingStudy'>`. What is not
 * known to be one of them (a server's answer, a stored document) is
 * FhirResource (resource.ts), to which each of these is assignable.
 */
import type { FhirVersion } from '../mapping-options.js';
import type { Bundle } from './bundle.js';
import type { ImagingManifest } from './imaging-manifest.js';
import type { ImagingSelection } from './imaging-selection.js';
import type { OperationOutcome } from './operation-outcome.js';
import type * as R4 from './r4.js';
import type * as R5 from './r5.js';
import type * as STU3 from './stu3.js';

export type { Bundle, BundleEntry } from './bundle.js';
export type { ImagingManifest } from './imaging-manifest.js';
export type { ImagingSelection } from './imaging-selection.js';
export type { OperationOutcome, OperationOutcomeIssue } from './operation-outcome.js';
export type { FhirResource } from './resource.js';
export type { R4, R5, STU3 };

export type R4Resource =
  | R4.ImagingStudy
  | R4.Patient
  | R4.Endpoint
  | R4.Basic
  | R4.CapabilityStatement
  | Bundle
  | OperationOutcome;

export type R5Resource =
  | R5.ImagingStudy
  | R5.Patient
  | R5.Endpoint
  | ImagingSelection
  | R5.CapabilityStatement
  | Bundle
  | OperationOutcome;

export type STU3Resource =
  | STU3.ImagingStudy
  | STU3.Patient
  | STU3.Endpoint
  | ImagingManifest
  | STU3.CapabilityStatement
  | Bundle
  | OperationOutcome;

export interface ResourcesByVersion {
  R4: R4Resource;
  R5: R5Resource;
  STU3: STU3Resource;
}

/** Any resource the bridge writes or serves, of any version. */
export type BridgeResource = ResourcesByVersion[FhirVersion];

/** The resource of `resourceType` in version V (a union over versions when V is). */
export type ResourceOf<V extends FhirVersion, T extends BridgeResource['resourceType'] = BridgeResource['resourceType']> = Extract<
  ResourcesByVersion[V],
  { resourceType: T }
>;

