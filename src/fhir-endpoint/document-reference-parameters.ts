/**
 * DocumentReference search parameters of the built-in FHIR endpoint: the
 * MADO ones (docs/mado/fsh/mhd/SearchParameter-DocumentReference-*.fsh:
 * study-instance-uid, accession-number, modality, anatomical-region) and the
 * R4 base ones served (index terms: document-reference-terms.ts).
 */
import type { SearchParamDefinition } from './search-parameters.js';

export const DOCUMENT_REFERENCE_SEARCH_PARAMETERS: readonly SearchParamDefinition[] = [
  { name: '_id', type: 'token', index: '_id', documentation: 'Logical id: the manifest UID (2.25 OID).' },
  { name: 'identifier', type: 'token', index: 'identifier', documentation: 'masterIdentifier or identifier: urn:dicom:uid|urn:oid:<manifest UID>.' },
  { name: 'study-instance-uid', type: 'token', index: 'study-instance-uid', documentation: 'MADO: the Study Instance UID (context.related identifier of type DCM 110180), urn:dicom:uid|urn:oid:<uid> or the UID alone.' },
  { name: 'accession-number', type: 'token', index: 'accession-number', documentation: 'MADO: the Accession Number (context.related identifier of type DCM 121022), system|value or value.' },
  { name: 'modality', type: 'token', index: 'modality', documentation: 'MADO: a modality of the manifest (DCM code).' },
  { name: 'anatomical-region', type: 'token', index: 'anatomical-region', documentation: 'MADO: an anatomical region of the manifest (SNOMED CT).' },
  { name: 'patient', type: 'reference', index: 'patient', target: 'Patient', documentation: 'The subject: Patient/<id>, <id>, or patient:identifier=system|value.' },
  { name: 'date', type: 'date', index: 'date', documentation: 'When the manifest was made; prefixes eq ne lt le gt ge sa eb.' },
  { name: 'status', type: 'token', index: 'status', documentation: 'status (current; entered-in-error for a study emptied by rejection).' },
];

