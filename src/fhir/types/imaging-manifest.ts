/**
 * FHIR STU3 (3.0.x) ImagingManifest, element order and cardinality from the
 * STU3 ImagingManifest page (3.0.2): patient 1..1, study 1..*, study.uid 1..1,
 * study.series 1..*, series.uid 1..1, series.instance 1..*, instance.sopClass
 * and instance.uid 1..1 (all `oid`: `urn:oid:<uid>`). STU3 Reference has no `type`.
 */
import type { Identifier, Reference } from './stu3.js';

export interface ImagingManifestInstance {
  sopClass: string;
  uid: string;
}

export interface ImagingManifestSeries {
  uid: string;
  endpoint?: Reference[];
  instance: ImagingManifestInstance[];
}

export interface ImagingManifestStudy {
  uid: string;
  imagingStudy?: Reference;
  endpoint?: Reference[];
  series: ImagingManifestSeries[];
}

export type ImagingManifest = {
  resourceType: 'ImagingManifest';
  id?: string;
  identifier?: Identifier;
  patient: Reference;
  authoringTime?: string;
  author?: Reference;
  description?: string;
  study: ImagingManifestStudy[];
};

/** STU3 ImagingManifest element names (resource, study, series, instance), base elements included. */
export const STU3_IMAGING_MANIFEST_ELEMENTS = {
  resource: [
    'resourceType', 'id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension',
    'identifier', 'patient', 'authoringTime', 'author', 'description', 'study',
  ],
  study: ['id', 'extension', 'modifierExtension', 'uid', 'imagingStudy', 'endpoint', 'series'],
  series: ['id', 'extension', 'modifierExtension', 'uid', 'endpoint', 'instance'],
  instance: ['id', 'extension', 'modifierExtension', 'sopClass', 'uid'],
} as const;
