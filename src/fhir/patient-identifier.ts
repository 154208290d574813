/**
 * Patient identifier system (mapping.md "Patient identifier system").
 *
 * Order: (0010,0021) Issuer of Patient ID through `issuerSystems`; the
 * (0010,0024) qualifiers' Universal Entity ID through `issuerSystems`, else
 * as `urn:oid:<oid>` (type ISO) or the URI itself (type URI/URL); the
 * qualifiers' Local Namespace Entity ID through `issuerSystems`; the peer's
 * default issuer through `issuerSystems`; the global `defaultSystem` last.
 * A raw issuer string is never put in `system`: when it did not resolve, it
 * is kept as `assigner.display`.
 */
import type { StudyState } from '../dicom/study-state.js';
import { universalEntityIdSystem } from './coding.js';
import type { MappingOptions } from './mapping-options.js';

export interface ResolvedPatientIdentifier {
  system: string;
  value: string;
  /** The raw issuer, when it could not be turned into the system. */
  assignerDisplay?: string;
  /** Which rule gave the system (for tests and logs). */
  source: 'issuer' | 'qualifier-table' | 'qualifier-uid' | 'qualifier-local' | 'peer-default' | 'default';
}

function lookup(table: Readonly<Record<string, string>>, key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  const k = key.trim();
  if (k === '' || !Object.prototype.hasOwnProperty.call(table, k)) return undefined;
  return table[k];
}

/** Reads only the patient attributes of the state. */
export function resolvePatientIdentifier(state: Pick<StudyState, 'patient'>, options: MappingOptions): ResolvedPatientIdentifier | undefined {
  const value = state.patient.patientId?.trim();
  if (!value) return undefined;
  const { issuerSystems, peerDefaultIssuer, defaultSystem } = options.patientIdentifier;
  const issuer = state.patient.issuerOfPatientId?.trim() || undefined;
  const q = state.patient.issuerOfPatientIdQualifiers;

  const bySystem = (system: string, source: ResolvedPatientIdentifier['source']): ResolvedPatientIdentifier =>
    source === 'issuer' || issuer === undefined ? { system, value, source } : { system, value, assignerDisplay: issuer, source };

  const fromIssuer = lookup(issuerSystems, issuer);
  if (fromIssuer) return { system: fromIssuer, value, source: 'issuer' };
  const fromQualifierTable = lookup(issuerSystems, q?.universalEntityId);
  if (fromQualifierTable) return bySystem(fromQualifierTable, 'qualifier-table');
  const fromQualifierUid = universalEntityIdSystem(q);
  if (fromQualifierUid) return bySystem(fromQualifierUid, 'qualifier-uid');
  const fromLocal = lookup(issuerSystems, q?.localNamespaceEntityId);
  if (fromLocal) return bySystem(fromLocal, 'qualifier-local');
  const fromPeer = lookup(issuerSystems, peerDefaultIssuer);
  if (fromPeer) return bySystem(fromPeer, 'peer-default');
  return bySystem(defaultSystem, 'default');
}
