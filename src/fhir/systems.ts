/**
 * Every URI the bridge writes into or matches in FHIR resources, defined once:
 * identifier systems, code systems, extension and profile URLs. STU3
 * published several HL7 code systems under other URIs than R4/R5; those have
 * a `_STU3` twin. The terminology tables (terminology/*.json) name their own
 * `system`; test/fhir/terminology.test.ts checks they name these.
 */

// ---- identifier systems and UID forms --------------------------------------

/** Identifier system of DICOM UIDs in R4/R5 (value `urn:oid:<uid>`). */
export const DICOM_UID_SYSTEM = 'urn:dicom:uid';
/** URI system (RFC 3986): SOP Class codings, the Endpoint and STU3 manifest identifiers. */
export const RFC3986_SYSTEM = 'urn:ietf:rfc:3986';
/** Prefix of an OID written as a URI (FHIR `oid`). */
export const OID_PREFIX = 'urn:oid:';

/** `1.2.3` → `urn:oid:1.2.3`. */
export function oidUri(uid: string): string {
  return `${OID_PREFIX}${uid}`;
}

/** `urn:oid:1.2.3` → `1.2.3`; anything else unchanged. */
export function stripOid(value: string): string {
  return value.startsWith(OID_PREFIX) ? value.slice(OID_PREFIX.length) : value;
}

// ---- code systems ------------------------------------------------------------

/** DICOM Controlled Terminology (PS3.16), e.g. modalities (CID 33), KOS titles (CID 7010), 112002 Series Instance UID. */
export const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
/** SNOMED CT: body parts (PS3.16 Annex L), laterality (CID 244). */
export const SNOMED_SYSTEM = 'http://snomed.info/sct';

/** HL7 v2 table 0203 (identifier type, e.g. ACSN). */
export const V2_0203_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const V2_0203_SYSTEM_STU3 = 'http://hl7.org/fhir/v2/0203';
/** HL7 v3 ParticipationType (ImagingStudy.series.performer.function, R4/R5). */
export const V3_PARTICIPATION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

export const ENDPOINT_CONNECTION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type';
export const ENDPOINT_CONNECTION_TYPE_SYSTEM_STU3 = 'http://hl7.org/fhir/endpoint-connection-type';
export const ENDPOINT_PAYLOAD_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type';
export const ENDPOINT_PAYLOAD_TYPE_SYSTEM_STU3 = 'http://hl7.org/fhir/endpoint-payload-type';

/** HL7 v3 ObservationValue (the SUBSETTED meta tag). */
export const V3_OBSERVATION_VALUE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';
export const V3_OBSERVATION_VALUE_SYSTEM_STU3 = 'http://hl7.org/fhir/v3/ObservationValue';

/** R4/R5 ImagingStudy.status code system (the `status` search token). */
export const IMAGINGSTUDY_STATUS_SYSTEM = 'http://hl7.org/fhir/imagingstudy-status';

// ---- extensions and profiles -------------------------------------------------

export const DATA_ABSENT_REASON_URL = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
/** ISO 21090 EN representation (which PN component group a HumanName came from). */
export const EN_REPRESENTATION_URL = 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation';

/** Cross-version (R5 → R4) profile and extension base, hl7.fhir.uv.xver-r5.r4 0.1.0. */
export const XVER_IMAGING_SELECTION_PROFILE = 'http://hl7.org/fhir/5.0/StructureDefinition/profile-ImagingSelection';
export const XVER_IMAGING_SELECTION_EXT = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-ImagingSelection';
