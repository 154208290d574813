/** Identity and defaults of the bridge's DICOM upper layer. Defined once, here. */

/** Our Implementation Class UID (PS3.7 D.3.3.2), announced in every A-ASSOCIATE-AC. */
export const IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.1234.1.1';
/** Our Implementation Version Name (PS3.7 D.3.3.2.3): at most 16 characters. */
export const IMPLEMENTATION_VERSION_NAME = 'DICOMFHIRBRIDGE';
/** DICOM Application Context Name (PS3.7 Annex A.2.1). */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
/** Protocol version bit 0 (PS3.8 Table 9-11). */
export const PROTOCOL_VERSION = 0x0001;

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** Default transfer syntax preference: explicit VR LE, implicit VR LE, then the requestor's order. */
export const DEFAULT_TRANSFER_SYNTAX_PREFERENCE: readonly string[] = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN];

/**
 * Defaults for ScpOptions (documented here, used by the config layer).
 * maxPduLength 262144: large enough that a 0.5 MB image is two PDUs, and the
 * reader never buffers a P-DATA-TF anyway (it streams its PDVs).
 */
export const SCP_DEFAULTS = {
  maxAssociations: 32,
  maxPduLength: 262_144,
  headerCapBytes: 16 * 1024 * 1024,
  artimTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  /** A new connection's time for its whole A-ASSOCIATE-RQ (the Sta2 ARTIM). */
  associateRequestTimeoutMs: 5_000,
  /** Connections without a complete A-ASSOCIATE-RQ yet, in all and from one address; not association slots. */
  maxPendingConnections: 64,
  maxPendingConnectionsPerAddress: 16,
  /** A DIMSE message must arrive within messageTimeoutMs + its bytes / minTransferRate (bytes per second). */
  messageTimeoutMs: 30_000,
  minTransferRate: 16_384,
} as const;

/** Connections past their association (A-ASSOCIATE-RJ, A-RELEASE-RP or A-ABORT sent) still open; beyond, the oldest is closed. */
export const MAX_CLOSING_CONNECTIONS = 64;

/** Most bytes of one DIMSE command set we collect (a command set is a few hundred bytes). */
export const COMMAND_SET_CAP_BYTES = 64 * 1024;
/** Most bytes of a data set the SCU collects in memory from a response (C-FIND identifiers are a few KiB). */
export const SCU_DATA_SET_CAP_BYTES = 16 * 1024 * 1024;
/** Largest A-ASSOCIATE-RQ (or other non-P-DATA PDU) body we read: 128 contexts fit easily. */
export const MAX_ASSOCIATE_PDU_LENGTH = 1024 * 1024;
/** Smallest maximum PDU length we accept to announce (PS3.8 Annex D.1 suggests no fewer than a few KiB). */
export const MIN_MAX_PDU_LENGTH = 4096;
