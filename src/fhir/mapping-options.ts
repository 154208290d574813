/** Options of the DICOM → FHIR mapping (see ../../shared/docs/mapping.md). */

export type FhirVersion = 'R4' | 'R5' | 'STU3';

export interface MappingOptions {
  fhirVersion: FhirVersion;
  /** Patient identifier system resolution (mapping.md "Patient identifier system"). */
  patientIdentifier: {
    /** Global default system, a URI. */
    defaultSystem: string;
    /** Issuer of Patient ID (or the qualifiers' universal entity id) → system URI. */
    issuerSystems: Readonly<Record<string, string>>;
    /** The sending peer's default issuer (looked up in issuerSystems). */
    peerDefaultIssuer?: string;
  };
  /** IANA timezone for DICOM local times without (0008,0201): the peer's, else the global one. */
  timezone: string;
  /**
   * 'accession': basedOn is a logical ServiceRequest reference by the accession identifier. In R5 the
   * accession is then only there, not in identifier (R5's mapping); R4 and STU3 keep it in identifier /
   * accession too. 'off': no basedOn (R5 keeps the accession in identifier, nothing is lost).
   */
  basedOn: 'off' | 'accession';
  /**
   * R4/R5 ImagingStudy.location: 'display' (absent too) = a display-only Reference(Location) from
   * (0040,0243) Performed Location, else (0008,1040) Institutional Department Name; 'off' = none.
   * STU3 has no location element.
   */
  location?: 'display' | 'off';
  /** Reference to the Endpoint resource (e.g. 'Endpoint/abc' or 'urn:uuid:...'); absent = no endpoint element. */
  endpointReference?: string;
  /** Reference to the Patient when the publisher resolved one ('Patient/123' or 'urn:uuid:...'); absent = logical reference by identifier. */
  patientReference?: string;
  /** STU3 availability; default 'ONLINE'. */
  availability?: 'ONLINE' | 'OFFLINE' | 'NEARLINE' | 'UNAVAILABLE';
  /** Debug sink for dropped malformed values (never throws). */
  onDropped?: (what: string, value: string) => void;
}

/** Calls options.onDropped, shielding the mapping from a throwing sink. */
export function reportDropped(options: Pick<MappingOptions, 'onDropped'>, what: string, value: string): void {
  try {
    options.onDropped?.(what, value);
  } catch {
    // A debug sink must never break the mapping.
  }
}
