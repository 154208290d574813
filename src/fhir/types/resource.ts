/**
 * Any FHIR resource as plain JSON, of any version: what crosses the client,
 * the index and the publisher when nothing more is known of it (a server's
 * answer, a stored document).
 *
 * The typed resources of this folder are object type aliases, not
 * interfaces, on purpose: TypeScript gives a type alias an implicit index
 * signature and an interface none, so a typed resource (R4.ImagingStudy,
 * R5.ImagingSelection, Bundle, ...) is assignable to FhirResource without a
 * cast, while FhirResource (unknown content) is never taken for a typed one.
 */
export interface FhirResource {
  resourceType: string;
  id?: string;
  [element: string]: unknown;
}
