/**
 * The CapabilityStatement of the built-in FHIR endpoint (`GET /fhir/metadata`):
 * exactly what it does: ImagingStudy read and search-type (with each search
 * parameter), Patient read, Endpoint read, and read of the key-image type of
 * the version (R5 ImagingSelection, STU3 ImagingManifest, R4 Basic when
 * keyImages is 'extensions'); JSON only; no writes.
 * Search parameters carry no `definition`: several are the bridge's
 * (study/uid/order in R4/R5), and their documentation says what they match.
 */
import { keyImageResourceType, type R4KeyImages } from '../fhir/map-key-images.js';
import type { FhirVersion } from '../fhir/mapping-options.js';
import type { FhirResource } from './resource-index.js';
import { searchParametersFor } from './search-parameters.js';

export const FHIR_VERSION_NUMBER: Record<FhirVersion, string> = { R4: '4.0.1', R5: '5.0.0', STU3: '3.0.2' };

export interface CapabilityOptions {
  version: FhirVersion;
  baseUrl: string;
  /** ISO date of the statement (default: when the module loaded). */
  date?: string;
  softwareVersion?: string;
  bearerToken: boolean;
  /** R4: key images as Basic (fhir.keyImages); default 'off'. */
  keyImages?: R4KeyImages | undefined;
}

const LOADED_AT = new Date().toISOString();

export function capabilityStatement(options: CapabilityOptions): FhirResource {
  const { version } = options;
  const keyImageType = keyImageResourceType(version, options.keyImages ?? 'off');
  const searchParam = searchParametersFor(version).map((p) => ({
    name: p.name,
    type: p.type === 'uri' && version !== 'STU3' ? 'uri' : p.type,
    documentation: p.documentation,
  }));
  const readOnly = (type: string, search: boolean) => ({
    type,
    interaction: search ? [{ code: 'read' }, { code: 'search-type' }] : [{ code: 'read' }],
    versioning: 'no-version',
    readHistory: false,
    updateCreate: false,
    ...(search ? { searchParam } : {}),
  });
  const security = options.bearerToken
    ? { security: { description: 'Every request needs Authorization: Bearer <token> (the configured token).' } }
    : {};
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: options.date ?? LOADED_AT,
    publisher: 'dicom-fhir-bridge',
    kind: 'instance',
    software: { name: 'dicom-fhir-bridge', ...(options.softwareVersion ? { version: options.softwareVersion } : {}) },
    implementation: { description: 'Read-only FHIR endpoint of the ImagingStudy resources this bridge generated', url: options.baseUrl },
    fhirVersion: FHIR_VERSION_NUMBER[version],
    ...(version === 'STU3' ? { acceptUnknown: 'no' } : {}),
    format: version === 'STU3' ? ['json'] : ['json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Read-only: no create, update, delete, history or transactions.',
        ...security,
        resource: [
          readOnly('ImagingStudy', true),
          readOnly('Patient', false),
          readOnly('Endpoint', false),
          ...(keyImageType ? [readOnly(keyImageType, false)] : []),
        ],
      },
    ],
  };
}
