/**
 * Value types the plain data model is built of, shared by the instance record
 * and the KOS document: decoded, trimmed, absent parts left out.
 */

/** One item of a code sequence (PS3.3 Table 8.8-1). */
export interface CodedEntry {
  codeValue?: string;
  codingSchemeDesignator?: string;
  codingSchemeVersion?: string;
  codeMeaning?: string;
}

/**
 * A decoded PN value: its component groups (PS3.5 6.2.1), each still in the
 * DICOM `Family^Given^Middle^Prefix^Suffix` form.
 */
export interface PersonName {
  alphabetic?: string;
  ideographic?: string;
  phonetic?: string;
}

/** Hierarchic Designator Macro (PS3.3 Table 10-17), e.g. Issuer of Accession Number. */
export interface HierarchicDesignator {
  localNamespaceEntityId?: string;
  universalEntityId?: string;
  universalEntityIdType?: string;
}
