/**
 * The Patient and Endpoint references of a study's ImagingStudy, as the
 * publisher resolves them on the FHIR server (fhir.patient.strategy,
 * fhir.dicomWebBaseUrl).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { idFromLocation, type FhirClient, type FhirResource } from '../fhir-client/fhir-client.js';
import type { ServerCapabilities } from '../fhir-client/server-capabilities.js';
import { endpointIdentifierQuery, mapEndpoint } from '../fhir/map-endpoint.js';
import { patientIdentifier } from '../fhir/map-imaging-study.js';
import { mapPatient } from '../fhir/map-patient.js';
import type { FhirVersion, MappingOptions } from '../fhir/mapping-options.js';
import { endpointId } from '../fhir/resource-ids.js';
import type { StudyState } from '../dicom/study-state.js';
import { PublishRejectedError } from './publish-errors.js';
import { matchesOf } from './searchset.js';

/**
 * How ImagingStudy.subject finds the Patient (fhir.patient.strategy):
 * - identifier: logical reference by the patient identifier (no Patient read or written);
 * - lookup: search Patient by identifier; one match is referenced, none gives the
 *   logical reference, several fail the study (no guess);
 * - create: one transaction that conditionally creates the Patient
 *   (`ifNoneExist: identifier=system|value`) and writes the ImagingStudy referring to it.
 */
export type PatientStrategy = 'identifier' | 'lookup' | 'create';

/** The Patient a `create` transaction creates unless one with its identifier exists. */
export interface PatientCreate {
  /** `urn:uuid:…` the ImagingStudy refers to within the transaction. */
  urn: string;
  resource: FhirResource;
  identifier: { system: string; value: string };
}

export interface StudyReferences {
  /** For the ImagingStudy's mapping. */
  references: Pick<MappingOptions, 'endpointReference' | 'patientReference'>;
  /** Strategy create, with a patient identifier: the Patient of the transaction. */
  patient?: PatientCreate;
}

export interface ReferencesOptions {
  client: FhirClient;
  /** Default 'identifier'. */
  patientStrategy?: PatientStrategy;
  /** DICOMweb base URL: an Endpoint is created once and referenced from ImagingStudy.endpoint. */
  dicomWebBaseUrl?: string;
  logger: Logger;
}

export class References {
  private endpoint: Promise<string> | undefined;

  constructor(private readonly options: ReferencesOptions) {}

  /** The references of one study (its patient identifier resolved once, and only when the strategy needs it). */
  async resolve(state: StudyState, options: MappingOptions, caps: ServerCapabilities): Promise<StudyReferences> {
    const references: StudyReferences['references'] = {};
    if (this.options.dicomWebBaseUrl) references.endpointReference = await this.endpointReference(options.fhirVersion, caps);
    const strategy = this.options.patientStrategy ?? 'identifier';
    if (strategy === 'identifier') return { references };
    const identifier = patientIdentifier(state, options);
    if (identifier === undefined) return { references };
    if (strategy === 'lookup') {
      const found = await this.lookupPatient(identifier);
      if (found) references.patientReference = found;
      return { references };
    }
    const urn = `urn:uuid:${randomUUID()}`;
    references.patientReference = urn;
    return { references, patient: { urn, resource: mapPatient(state, options), identifier } };
  }

  private async lookupPatient(identifier: { system: string; value: string }): Promise<string | undefined> {
    const token = `${identifier.system}|${identifier.value}`;
    const response = await this.options.client.search('Patient', { identifier: token });
    const matches = matchesOf(response.resource, 'Patient');
    const total = typeof response.resource?.total === 'number' ? response.resource.total : matches.length;
    if (total > 1 || matches.length > 1) {
      throw new PublishRejectedError(`${Math.max(total, matches.length)} Patients match identifier ${token}`);
    }
    return matches[0]?.id ? `Patient/${matches[0].id}` : undefined;
  }

  /** `Endpoint/<id>` of the DICOMweb Endpoint, created once per process (conditional create). */
  private endpointReference(version: FhirVersion, caps: ServerCapabilities): Promise<string> {
    this.endpoint ??= this.ensureEndpoint(version, caps).catch((err: unknown) => {
      this.endpoint = undefined; // try again at the next publish
      throw err;
    });
    return this.endpoint;
  }

  private async ensureEndpoint(version: FhirVersion, caps: ServerCapabilities): Promise<string> {
    const { client } = this.options;
    const address = this.options.dicomWebBaseUrl!;
    const resource = mapEndpoint(address, version);
    if (!caps.conditionalCreate('Endpoint')) {
      const id = endpointId(address);
      await client.update('Endpoint', id, resource);
      return `Endpoint/${id}`;
    }
    const query = endpointIdentifierQuery(address);
    const response = await client.create('Endpoint', resource, { ifNoneExist: query });
    let id = response.resource?.resourceType === 'Endpoint' ? response.resource.id : undefined;
    id ??= idFromLocation(response.location, 'Endpoint');
    if (id === undefined) {
      // A server that answers the conditional create without body or Location: find it.
      const found = matchesOf((await client.search('Endpoint', query)).resource, 'Endpoint');
      id = found[0]?.id;
    }
    if (id === undefined) throw new Error('the FHIR server did not tell the id of the Endpoint');
    this.options.logger.info({ endpoint: `Endpoint/${id}`, httpStatus: response.status }, 'DICOMweb Endpoint ready');
    return `Endpoint/${id}`;
  }
}
