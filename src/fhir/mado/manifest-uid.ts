/**
 * Stable DICOM UIDs the manifest mapping derives: `2.25.<the decimal of a
 * UUID>` (PS3.5 B.2, ISO/IEC 9834-8), the UUID name-based (RFC 9562 version
 * 5: SHA-1 of a namespace and a name), so the same study always gets the
 * same manifest UID and a re-send or republish updates the same manifest.
 *
 * - manifestUid(study): Bundle.identifier, Composition.identifier and
 *   DocumentReference.masterIdentifier of the FHIR Imaging Study Manifest
 *   (a KOS manifest of the same study would carry it as SOP Instance UID).
 * - retrieveLocationUid(address): the Retrieve Location UID (0040,E011) of a
 *   WADO-RS base URL, when none is configured.
 */
import { createHash } from 'node:crypto';

/** This bridge's UUID namespace (a random UUID, fixed once): names under it never collide with others'. */
const NAMESPACE = '32ae03d2-ab8d-4d46-9c30-b2557e4f7ec8';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** RFC 9562 UUIDv5 of `name` in this bridge's namespace, as 16 bytes. */
function uuidV5(name: string): Buffer {
  const hash = createHash('sha1').update(uuidBytes(NAMESPACE)).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  return bytes;
}

/** `2.25.` + the UUID as an unsigned 128-bit decimal (at most 44 characters: a valid UID). */
export function uuidOid(name: string): string {
  return `2.25.${BigInt(`0x${uuidV5(name).toString('hex')}`).toString(10)}`;
}

/** The UID of the study's FHIR Imaging Study Manifest. */
export function manifestUid(studyInstanceUid: string): string {
  return uuidOid(`mado-fhir-manifest|${studyInstanceUid.trim()}`);
}

/** A Retrieve Location UID for a WADO-RS base URL (trailing slashes ignored). */
export function retrieveLocationUidOf(address: string): string {
  return uuidOid(`retrieve-location|${address.trim().replace(/\/+$/, '')}`);
}

/** A `urn:uuid:` for an entry of the manifest Bundle (stable per manifest and role, so the content is). */
export function entryUrn(manifest: string, role: string): string {
  const hex = uuidV5(`mado-entry|${manifest}|${role}`).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
