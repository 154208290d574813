/** Any FHIR resource as plain JSON, of any version: what crosses the client, the index and the publisher. */
export interface FhirResource {
  resourceType: string;
  id?: string;
  [element: string]: unknown;
}
