/**
 * OperationOutcome, the same JSON in STU3 (3.0.2), R4 (4.0.1) and R5 (5.0.0)
 * for these elements: issue 1..*, issue.severity and issue.code 1..1, the
 * rest optional.
 */
import type { CodeableConcept } from './common.js';

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

/**
 * IssueType codes of R4 (STU3 has all but multiple-matches and deleted; R5
 * adds limited-filter and success, which the bridge never writes).
 */
export type IssueType =
  | 'invalid' | 'structure' | 'required' | 'value' | 'invariant'
  | 'security' | 'login' | 'unknown' | 'expired' | 'forbidden' | 'suppressed'
  | 'processing' | 'not-supported' | 'duplicate' | 'multiple-matches' | 'not-found' | 'deleted' | 'too-long'
  | 'code-invalid' | 'extension' | 'too-costly' | 'business-rule' | 'conflict'
  | 'transient' | 'lock-error' | 'no-store' | 'exception' | 'timeout' | 'incomplete' | 'throttled'
  | 'informational';

export interface OperationOutcomeIssue {
  severity: IssueSeverity;
  code: IssueType;
  details?: CodeableConcept;
  diagnostics?: string;
  location?: string[];
  expression?: string[];
}

export type OperationOutcome = {
  resourceType: 'OperationOutcome';
  id?: string;
  issue: OperationOutcomeIssue[];
};
