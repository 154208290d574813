import type { Logger } from 'pino';
import type { BridgeConfig } from '../config/schema.js';
import type { MappingOptions } from '../fhir/mapping-options.js';
import type { StudyState } from './study-state.js';

/** Mapping options of one study: global configuration (peer settings come with the peers table). */
export function mappingOptionsFor(config: BridgeConfig, logger: Logger): (state: StudyState) => MappingOptions {
  return (state) => ({
    fhirVersion: config.fhir.version,
    patientIdentifier: {
      defaultSystem: config.fhir.patient.defaultSystem,
      issuerSystems: config.fhir.patient.issuerSystems,
    },
    timezone: config.timezone,
    basedOn: config.fhir.basedOn,
    onDropped: (what, value) =>
      logger.debug({ studyInstanceUid: state.studyInstanceUid, what, value }, 'malformed DICOM value dropped'),
  });
}
