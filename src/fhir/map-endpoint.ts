/**
 * DICOMweb base URL → Endpoint (STU3, R4 or R5) for ImagingStudy.endpoint.
 *
 * connectionType `dicom-wado-rs` (R4/R5 system
 * http://terminology.hl7.org/CodeSystem/endpoint-connection-type; STU3
 * published the same code system as http://hl7.org/fhir/endpoint-connection-type).
 * payloadType (1..* in STU3/R4): `any` from the endpoint-payload-type code
 * system (its only content codes are `any`/`none`), text "DICOM WADO-RS",
 * MIME type application/dicom; R5 moved both into `payload[]`.
 * The address loses trailing slashes; the identifier (system
 * urn:ietf:rfc:3986, value = address) lets the publisher conditionally create
 * one Endpoint per address (`identifier=urn:ietf:rfc:3986|<address>`).
 */
import type { FhirVersion } from './mapping-options.js';
import {
  ENDPOINT_CONNECTION_TYPE_SYSTEM,
  ENDPOINT_CONNECTION_TYPE_SYSTEM_STU3,
  ENDPOINT_PAYLOAD_TYPE_SYSTEM,
  ENDPOINT_PAYLOAD_TYPE_SYSTEM_STU3,
  RFC3986_SYSTEM,
} from './systems.js';
import type { CodeableConcept } from './types/common.js';
import type * as R4 from './types/r4.js';
import type * as R5 from './types/r5.js';
import type * as STU3 from './types/stu3.js';

export type EndpointResource = R4.Endpoint | R5.Endpoint | STU3.Endpoint;

const NAME = 'DICOMweb WADO-RS';
const MIME = ['application/dicom'];

/** The address as the Endpoint carries it (trimmed, no trailing slash). */
export function endpointAddress(dicomWebBaseUrl: string): string {
  return dicomWebBaseUrl.trim().replace(/\/+$/, '');
}

/** The search query that finds the Endpoint of this address (for a conditional create). */
export function endpointIdentifierQuery(dicomWebBaseUrl: string): string {
  return `identifier=${encodeURIComponent(`${RFC3986_SYSTEM}|${endpointAddress(dicomWebBaseUrl)}`)}`;
}

function payloadType(system: string): CodeableConcept {
  return { coding: [{ system, code: 'any', display: 'Any' }], text: NAME };
}

export function mapEndpoint(dicomWebBaseUrl: string, version: 'R4'): R4.Endpoint;
export function mapEndpoint(dicomWebBaseUrl: string, version: 'R5'): R5.Endpoint;
export function mapEndpoint(dicomWebBaseUrl: string, version: 'STU3'): STU3.Endpoint;
export function mapEndpoint(dicomWebBaseUrl: string, version: FhirVersion): EndpointResource;
export function mapEndpoint(dicomWebBaseUrl: string, version: FhirVersion): EndpointResource {
  const address = endpointAddress(dicomWebBaseUrl);
  const identifier = [{ system: RFC3986_SYSTEM, value: address }];
  if (version === 'R5') {
    return {
      resourceType: 'Endpoint',
      identifier,
      status: 'active',
      connectionType: [{ coding: [{ system: ENDPOINT_CONNECTION_TYPE_SYSTEM, code: 'dicom-wado-rs' }] }],
      name: NAME,
      payload: [{ type: [payloadType(ENDPOINT_PAYLOAD_TYPE_SYSTEM)], mimeType: MIME }],
      address,
    };
  }
  // STU3 and R4 share the shape; STU3 names its code systems differently.
  const stu3 = version === 'STU3';
  return {
    resourceType: 'Endpoint',
    identifier,
    status: 'active',
    connectionType: { system: stu3 ? ENDPOINT_CONNECTION_TYPE_SYSTEM_STU3 : ENDPOINT_CONNECTION_TYPE_SYSTEM, code: 'dicom-wado-rs' },
    name: NAME,
    payloadType: [payloadType(stu3 ? ENDPOINT_PAYLOAD_TYPE_SYSTEM_STU3 : ENDPOINT_PAYLOAD_TYPE_SYSTEM)],
    payloadMimeType: MIME,
    address,
  };
}
