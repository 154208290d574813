import { TokenError } from '../fhir-client/auth/auth-provider.js';
import { FhirHttpError, isRetryable } from '../fhir-client/fhir-client.js';

/** The server's data make the publish impossible without a person (e.g. several Patients match): the study fails. */
export class PublishRejectedError extends Error {
  override readonly name = 'PublishRejectedError';
}

/** Whether a publish error leaves the study pending (retried) rather than failed. */
export function isRetryablePublishError(err: unknown): boolean {
  if (err instanceof PublishRejectedError) return false;
  if (err instanceof TokenError) return true;
  if (err instanceof FhirHttpError) {
    // 401 after a fresh token, and 409/412 after the bounded merge rounds, are not the study's fault.
    return isRetryable(err) || err.status === 401 || err.status === 409 || err.status === 412;
  }
  return true; // network errors, timeouts, unexpected: nothing is dropped
}
