/**
 * Deterministic logical ids of the resources the bridge generates, so the
 * publisher, the built-in FHIR endpoint and its index agree on them without
 * a lookup. Pure (a hash is a pure function of its input).
 *
 * - ImagingStudy: the Study Instance UID itself (digits and dots, ≤ 64
 *   characters: a valid FHIR id); anything that is not a valid id (a
 *   malformed UID) becomes `s-` + 62 hex digits of its SHA-256.
 * - Patient: `p-` + 40 hex digits of SHA-256(`system|value`) of its
 *   identifier (the resolved patient identifier of mapping.md).
 * - Endpoint: `e-` + 40 hex digits of SHA-256 of its address (trailing
 *   slashes removed, as mapEndpoint writes it).
 * - Key-image resources of a Key Object Selection Document (R5
 *   ImagingSelection, R4 Basic: one per referenced series; STU3
 *   ImagingManifest: one per KOS): `k-` + 40 hex digits of SHA-256 of
 *   `<KOS SOP Instance UID>|<referenced Series Instance UID>` (empty series
 *   for the one-per-KOS manifest).
 */
import { createHash } from 'node:crypto';
import { endpointAddress } from './map-endpoint.js';
import { DICOM_UID_SYSTEM, stripOid } from './systems.js';

export { stripOid } from './systems.js';

/** FHIR `id`: [A-Za-z0-9\-\.]{1,64}. */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function imagingStudyId(studyInstanceUid: string): string {
  const uid = studyInstanceUid.trim();
  return FHIR_ID.test(uid) ? uid : `s-${sha256Hex(uid).slice(0, 62)}`;
}

export function patientId(identifier: { system?: string; value: string }): string {
  return `p-${sha256Hex(`${identifier.system ?? ''}|${identifier.value}`).slice(0, 40)}`;
}

export function endpointId(address: string): string {
  return `e-${sha256Hex(endpointAddress(address)).slice(0, 40)}`;
}

export function keyImageId(kosSopInstanceUid: string, seriesInstanceUid?: string): string {
  return `k-${sha256Hex(`${kosSopInstanceUid.trim()}|${seriesInstanceUid?.trim() ?? ''}`).slice(0, 40)}`;
}

interface IdentifierLike {
  system?: unknown;
  value?: unknown;
}

/** The Study Instance UID of a generated ImagingStudy of any version (STU3 `uid`, R4/R5 identifier urn:dicom:uid). */
export function studyUidOf(resource: { [k: string]: unknown }): string | undefined {
  if (typeof resource.uid === 'string') return stripOid(resource.uid);
  const ids = Array.isArray(resource.identifier) ? (resource.identifier as IdentifierLike[]) : [];
  const found = ids.find((i) => i?.system === DICOM_UID_SYSTEM && typeof i.value === 'string');
  return found ? stripOid(found.value as string) : undefined;
}

/**
 * The deterministic id of a generated ImagingStudy, Patient or Endpoint,
 * computed from its content; undefined when the content does not carry what
 * the id derives from (no study UID, no patient identifier, no address).
 */
export function deterministicId(resource: { resourceType: string; [k: string]: unknown }): string | undefined {
  switch (resource.resourceType) {
    case 'ImagingStudy': {
      const uid = studyUidOf(resource);
      return uid ? imagingStudyId(uid) : undefined;
    }
    case 'Patient': {
      const first = (Array.isArray(resource.identifier) ? (resource.identifier as IdentifierLike[]) : []).find(
        (i) => typeof i?.value === 'string',
      );
      if (!first) return undefined;
      return patientId({ system: typeof first.system === 'string' ? first.system : undefined, value: first.value as string });
    }
    case 'Endpoint':
      return typeof resource.address === 'string' ? endpointId(resource.address) : undefined;
    default:
      return undefined;
  }
}
