/**
 * Writes a study's MADO FHIR Imaging Study Manifest (the document Bundle)
 * and its MHD DocumentReference to the FHIR server, after the ImagingStudy
 * (docs/mado.md). Each is a conditional update keyed on its identifier (the
 * manifest's 2.25 OID, identical in Bundle.identifier and
 * DocumentReference.masterIdentifier/identifier), so a republish updates the
 * same two resources. The DocumentReference's attachment URL is the stored
 * Bundle's URL on the server.
 *
 * Idempotent: when the server already has the manifest, it is mapped again
 * with the stored manifest's time; unchanged content is not written (a
 * re-send of the same study changes nothing). Errors propagate like an
 * ImagingStudy write's (the publisher's retry and failed-state rules).
 */
import type { BridgeConfig } from '../config/schema.js';
import { FhirHttpError, idFromLocation, type FhirClient, type FhirResource } from '../fhir-client/fhir-client.js';
import type { DocumentReference, Manifest, ManifestOptions } from '../fhir/mado/index.js';
import { manifestIdentifierToken } from '../fhir/mado/index.js';
import { sameContent } from '../fhir/owned-elements.js';
import { PublishRejectedError } from './publish-errors.js';
import { matchesOf } from './searchset.js';

/** The manifest options that do not depend on the study (from the `manifest:` configuration). */
export type ManifestSettings = Omit<ManifestOptions, 'mapping' | 'createdAt'>;

/** The publisher's manifest settings, or undefined when FHIR_MANIFEST is off. */
export function manifestSettings(config: Pick<BridgeConfig, 'manifest' | 'fhir'>, softwareVersion?: string): ManifestSettings | undefined {
  const m = config.manifest;
  if (m.format !== 'mado') return undefined;
  return {
    sharing: {
      excludeSopClasses: m.excludeSopClasses,
      ...(m.excludeSeriesDescription !== undefined ? { excludeSeriesDescription: m.excludeSeriesDescription } : {}),
    },
    ...(config.fhir.dicomWebBaseUrl !== undefined ? { dicomWebBaseUrl: config.fhir.dicomWebBaseUrl } : {}),
    ...(m.viewerUrlTemplate !== undefined ? { viewerUrlTemplate: m.viewerUrlTemplate } : {}),
    creator: {
      organizationName: m.organizationName,
      ...(m.organizationIdentifier !== undefined ? { organizationIdentifier: m.organizationIdentifier } : {}),
      manufacturer: 'dicom-fhir-bridge',
      softwareName: 'dicom-fhir-bridge',
      ...(softwareVersion !== undefined ? { softwareVersion } : {}),
    },
    accessionSystem: m.accessionSystem,
    facilityType: m.facilityType,
    practiceSetting: m.practiceSetting,
  };
}

export interface ManifestWrite {
  /** Maps the manifest made at `createdAt` (pure; what it throws fails the study). */
  map: (createdAt: string) => Manifest;
  /** Maps the envelope of `manifest` whose Bundle is read at `bundleUrl`. */
  envelope: (manifest: Manifest, bundleUrl: string) => DocumentReference;
  /** When a new manifest is made: the study's last receipt, so the same study gives the same manifest. */
  createdAt: string;
}

export interface ManifestWritten {
  bundleId: string;
  documentReferenceId: string;
  /** Neither resource needed a write. */
  unchanged: boolean;
}

type Json = Record<string, unknown>;

/** Content without what the server owns (id, meta). */
function content(resource: Json): Json {
  const { id: _id, meta: _meta, ...rest } = resource;
  return rest;
}

export async function writeManifest(client: FhirClient, w: ManifestWrite): Promise<ManifestWritten> {
  let manifest = w.map(w.createdAt);
  const query = `identifier=${encodeURIComponent(manifestIdentifierToken(manifest.uid))}`;
  let changed = false;

  const existingBundle = await findOne(client, 'Bundle', query);
  let bundleId = existingBundle?.id;
  // Mapped again at the stored manifest's time: an unchanged study gives the same Bundle.
  const stored = existingBundle && typeof existingBundle.timestamp === 'string' ? w.map(existingBundle.timestamp) : undefined;
  if (existingBundle && stored && sameContent(content(existingBundle), content(stored.bundle as unknown as Json))) {
    manifest = stored;
  } else {
    const body = manifest.bundle as unknown as FhirResource;
    const response = bundleId ? await client.update('Bundle', bundleId, body) : await client.conditionalUpdate('Bundle', query, body);
    bundleId = response.resource?.id ?? idFromLocation(response.location, 'Bundle') ?? bundleId;
    changed = true;
  }
  if (!bundleId) throw new FhirHttpError(`PUT Bundle?${decodeURIComponent(query)}: the server gave no id`, 502);

  const doc = w.envelope(manifest, `${client.baseUrl}/Bundle/${bundleId}`) as unknown as FhirResource;
  const existingDoc = await findOne(client, 'DocumentReference', query);
  let documentReferenceId = existingDoc?.id;
  if (!existingDoc || !sameContent(content(existingDoc), content(doc))) {
    const response = documentReferenceId
      ? await client.update('DocumentReference', documentReferenceId, doc)
      : await client.conditionalUpdate('DocumentReference', query, doc);
    documentReferenceId = response.resource?.id ?? idFromLocation(response.location, 'DocumentReference') ?? documentReferenceId;
    changed = true;
  }
  if (!documentReferenceId) throw new FhirHttpError(`PUT DocumentReference?${decodeURIComponent(query)}: the server gave no id`, 502);
  return { bundleId, documentReferenceId, unchanged: !changed };
}

/** The one resource of `type` matching `query`; several are a data problem for a person. */
async function findOne(client: FhirClient, type: 'Bundle' | 'DocumentReference', query: string): Promise<FhirResource | undefined> {
  const matches = matchesOf((await client.search(type, query)).resource, type);
  if (matches.length > 1) {
    throw new PublishRejectedError(`${matches.length} ${type} resources match ${decodeURIComponent(query)}: resolve the duplicates on the server, then republish`);
  }
  return matches[0];
}

