/**
 * The CapabilityStatement of the built-in FHIR endpoint (`GET /fhir/metadata`):
 * exactly what it does: ImagingStudy read and search-type (with each search
 * parameter), Patient read, Endpoint read, and read of the key-image type of
 * the version (R5 ImagingSelection, STU3 ImagingManifest, R4 Basic when
 * keyImages is 'extensions'); JSON only; no writes.
 * Search parameters carry no `definition`: several are the bridge's
 * (study/uid/order in R4/R5), and their documentation says what they match;
 * the MADO DocumentReference parameters name their MADO SearchParameter.
 * With manifests (R4, FHIR_MANIFEST=mado): DocumentReference read and search,
 * Bundle read.
 */
import { keyImageResourceType, type R4KeyImages } from '../fhir/map-key-images.js';
import type { FhirVersion } from '../fhir/mapping-options.js';
import type { ResourceOf } from '../fhir/types/index.js';
import { MADO_PROFILE, MADO_SEARCH_PARAMETER } from '../fhir/mado/canonicals.js';
import { DOCUMENT_REFERENCE_SEARCH_PARAMETERS } from './document-reference-parameters.js';
import { searchParametersFor } from './search-parameters.js';

const MADO_PARAMETER_URL: Record<string, string | undefined> = {
  'study-instance-uid': MADO_SEARCH_PARAMETER.studyInstanceUid,
  'accession-number': MADO_SEARCH_PARAMETER.accessionNumber,
  modality: MADO_SEARCH_PARAMETER.modality,
  'anatomical-region': MADO_SEARCH_PARAMETER.anatomicalRegion,
};

/** The CapabilityStatement type of any version (R4 Medplum's, R5 and STU3 ours). */
export type CapabilityStatement = ResourceOf<FhirVersion, 'CapabilityStatement'>;

export const FHIR_VERSION_NUMBER = { R4: '4.0.1', R5: '5.0.0', STU3: '3.0.2' } as const satisfies Record<FhirVersion, string>;

export interface CapabilityOptions {
  version: FhirVersion;
  baseUrl: string;
  /** ISO date of the statement (default: when the module loaded). */
  date?: string;
  softwareVersion?: string;
  bearerToken: boolean;
  /** R4: key images as Basic (fhir.keyImages); default 'off'. */
  keyImages?: R4KeyImages | undefined;
  /** R4, FHIR_MANIFEST=mado: DocumentReference (read, search with the MADO parameters) and Bundle (read). */
  manifests?: boolean | undefined;
}

const LOADED_AT = new Date().toISOString();

export function capabilityStatement(options: CapabilityOptions): CapabilityStatement {
  const { version } = options;
  const searchParam = searchParametersFor(version).map((p) => ({
    name: p.name,
    type: p.type === 'uri' && version !== 'STU3' ? 'uri' : p.type,
    documentation: p.documentation,
  }));
  const readOnly = <T extends string>(type: T, search: boolean) => ({
    type,
    interaction: search ? [{ code: 'read' as const }, { code: 'search-type' as const }] : [{ code: 'read' as const }],
    versioning: 'no-version' as const,
    readHistory: false,
    updateCreate: false,
    ...(search ? { searchParam } : {}),
  });
  const security = options.bearerToken
    ? { security: { description: 'Every request needs Authorization: Bearer <token> (the configured token).' } }
    : {};
  // The key-image type is the version's: R4 can only list Basic, R5 ImagingSelection, STU3 ImagingManifest.
  const rest = <K extends string>(keyImageType: K | undefined) => [
    {
      mode: 'server' as const,
      documentation: 'Read-only: no create, update, delete, history or transactions.',
      ...security,
      resource: [
        readOnly('ImagingStudy', true),
        readOnly('Patient', false),
        readOnly('Endpoint', false),
        ...(keyImageType ? [readOnly(keyImageType, false)] : []),
        ...(options.manifests
          ? [
              {
                ...readOnly('DocumentReference', false),
                interaction: [{ code: 'read' as const }, { code: 'search-type' as const }],
                supportedProfile: [MADO_PROFILE.documentReference],
                searchParam: DOCUMENT_REFERENCE_SEARCH_PARAMETERS.map((p) => ({
                  name: p.name,
                  type: p.type,
                  documentation: p.documentation,
                  ...(MADO_PARAMETER_URL[p.name] ? { definition: MADO_PARAMETER_URL[p.name] } : {}),
                })),
              },
              { ...readOnly('Bundle', false), supportedProfile: [MADO_PROFILE.bundle] },
            ]
          : []),
      ],
    },
  ];
  const head = {
    resourceType: 'CapabilityStatement' as const,
    status: 'active' as const,
    date: options.date ?? LOADED_AT,
    publisher: 'dicom-fhir-bridge',
    kind: 'instance' as const,
    software: { name: 'dicom-fhir-bridge', ...(options.softwareVersion ? { version: options.softwareVersion } : {}) },
    implementation: { description: 'Read-only FHIR endpoint of the ImagingStudy resources this bridge generated', url: options.baseUrl },
  };
  switch (version) {
    case 'STU3':
      return { ...head, fhirVersion: FHIR_VERSION_NUMBER.STU3, acceptUnknown: 'no', format: ['json'], rest: rest(keyImageResourceType('STU3')) };
    case 'R5':
      return { ...head, fhirVersion: FHIR_VERSION_NUMBER.R5, format: ['json', 'application/fhir+json'], rest: rest(keyImageResourceType('R5')) };
    case 'R4':
    default:
      return {
        ...head,
        fhirVersion: FHIR_VERSION_NUMBER.R4,
        format: ['json', 'application/fhir+json'],
        rest: rest(keyImageResourceType('R4', options.keyImages ?? 'off')),
      };
  }
}
