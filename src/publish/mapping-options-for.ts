import type { Logger } from 'pino';
import type { PeerTable } from '../config/peers.js';
import type { BridgeConfig } from '../config/schema.js';
import type { MappingOptions } from '../fhir/mapping-options.js';
import type { StudyState } from '../dicom/study-state.js';

/**
 * Mapping options of one study: global configuration, refined by the peer
 * (calling AE title of the latest instance) when it is configured.
 */
export function mappingOptionsFor(
  config: BridgeConfig,
  peers: () => PeerTable,
  logger: Logger,
): (state: StudyState) => MappingOptions {
  return (state) => {
    const peer = peers().peer(state.lastReceipt.callingAeTitle);
    return {
      fhirVersion: config.fhir.version,
      patientIdentifier: {
        defaultSystem: config.fhir.patient.defaultSystem,
        issuerSystems: config.fhir.patient.issuerSystems,
        ...(peer?.defaultIssuer ? { peerDefaultIssuer: peer.defaultIssuer } : {}),
      },
      timezone: peer?.timezone ?? config.timezone,
      // R5's mapping puts the accession in basedOn; R4 and STU3 carry it in identifier / accession.
      basedOn: config.fhir.basedOn ?? (config.fhir.version === 'R5' ? 'accession' : 'off'),
      location: config.fhir.location,
      onDropped: (what, value) =>
        logger.debug({ studyInstanceUid: state.studyInstanceUid, what, value }, 'malformed DICOM value dropped'),
    };
  };
}
