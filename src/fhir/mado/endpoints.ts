/**
 * The manifest's Endpoints (profiles/Endpoint-wado-rs.fsh, Endpoint-webviewer.fsh). Pure.
 *
 * MadoWadoEndpoint: the WADO-RS base URL (DICOMWEB_BASE_URL) every series
 * refers to; connectionType dicom-wado-rs; payloadType `none` with the text
 * "DICOM WADO-RS" (the profile fixes both); the Retrieve Location UID
 * extension (configured, else derived from the address). Without a URL the
 * address is the profile's placeholder `http://notspecified` with a
 * data-absent-reason `unknown` (a client then needs a Retrieve Location UID
 * look-up).
 *
 * MadoWebViewerEndpoint: VIEWER_URL_TEMPLATE filled for the study
 * ({studyUid}, {accession}, {patientId}, each URL-encoded); payloadMimeType
 * text/html, payloadType `none`. R4 requires a connectionType: `ihe-iid`
 * (IHE Invoke Image Display, the code of the endpoint-connection-type code
 * system for launching an image viewer on a study). A template that names a
 * value the study does not have gives no viewer endpoint (never a URL with a
 * hole in it).
 */
import { DATA_ABSENT_REASON_URL, ENDPOINT_CONNECTION_TYPE_SYSTEM, ENDPOINT_PAYLOAD_TYPE_SYSTEM, RFC3986_SYSTEM } from '../systems.js';
import { MADO_EXTENSION, MADO_PROFILE } from './canonicals.js';
import { retrieveLocationUidOf } from './manifest-uid.js';
import type { Endpoint, Extension } from './r4-types.js';

/** MadoWadoEndpoint's address when the WADO URL is not known (Endpoint-wado-rs.fsh line 13). */
export const NOT_SPECIFIED_ADDRESS = 'http://notspecified';

export const VIEWER_PLACEHOLDERS = ['studyUid', 'accession', 'patientId'] as const;
export type ViewerValues = Partial<Record<(typeof VIEWER_PLACEHOLDERS)[number], string>>;

type EndpointWithAbsentAddress = Endpoint & { _address?: { extension: Extension[] } };

export function wadoEndpoint(dicomWebBaseUrl: string | undefined, retrieveLocationUid: string | undefined): EndpointWithAbsentAddress {
  const address = dicomWebBaseUrl?.trim().replace(/\/+$/, '') || undefined;
  const endpoint: EndpointWithAbsentAddress = {
    resourceType: 'Endpoint',
    meta: { profile: [MADO_PROFILE.wadoEndpoint] },
    extension: [{ url: MADO_EXTENSION.retrieveLocationUid, valueString: retrieveLocationUid ?? retrieveLocationUidOf(address ?? NOT_SPECIFIED_ADDRESS) }],
    ...(address ? { identifier: [{ system: RFC3986_SYSTEM, value: address }] } : {}),
    status: 'active',
    connectionType: { system: ENDPOINT_CONNECTION_TYPE_SYSTEM, code: 'dicom-wado-rs', display: 'DICOM WADO-RS' },
    name: 'DICOMweb WADO-RS',
    payloadType: [{ coding: [{ system: ENDPOINT_PAYLOAD_TYPE_SYSTEM, code: 'none', display: 'None' }], text: 'DICOM WADO-RS' }],
    payloadMimeType: ['application/dicom'],
    address: address ?? NOT_SPECIFIED_ADDRESS,
  };
  if (!address) endpoint._address = { extension: [{ url: DATA_ABSENT_REASON_URL, valueCode: 'unknown' }] };
  return endpoint;
}

/** The placeholders a template names (unknown ones included). */
export function templatePlaceholders(template: string): string[] {
  return [...template.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!);
}

/** The template with its placeholders filled, URL-encoded; undefined when a value it names is missing. */
export function fillViewerTemplate(template: string, values: ViewerValues): string | undefined {
  let missing = false;
  const url = template.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => {
    const value = (values as Record<string, string | undefined>)[name];
    if (value === undefined || value === '') {
      missing = true;
      return whole;
    }
    return encodeURIComponent(value);
  });
  return missing ? undefined : url;
}

export function webViewerEndpoint(address: string): Endpoint {
  return {
    resourceType: 'Endpoint',
    meta: { profile: [MADO_PROFILE.webViewerEndpoint] },
    status: 'active',
    connectionType: { system: ENDPOINT_CONNECTION_TYPE_SYSTEM, code: 'ihe-iid', display: 'IHE IID' },
    name: 'Web viewer',
    payloadType: [{ coding: [{ system: ENDPOINT_PAYLOAD_TYPE_SYSTEM, code: 'none', display: 'None' }], text: 'Web viewer' }],
    payloadMimeType: ['text/html'],
    address,
  };
}
