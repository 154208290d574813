/** OperationOutcome answers of the built-in FHIR endpoint (same JSON in STU3, R4, R5). */
import type { IssueType, OperationOutcome } from '../fhir/types/operation-outcome.js';

export type { OperationOutcome };

/** The issue types the endpoint answers with. */
export type IssueCode = Extract<IssueType, 'invalid' | 'too-costly' | 'not-found' | 'not-supported' | 'login' | 'exception' | 'processing' | 'timeout'>;

export function operationOutcome(code: IssueCode, diagnostics: string, severity: 'error' | 'warning' = 'error'): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

/** An HTTP error with its OperationOutcome. */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly code: IssueCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
