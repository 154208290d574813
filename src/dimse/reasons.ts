/**
 * Text for A-ASSOCIATE-RJ result/source/reason (PS3.8 Table 9-21) and
 * A-ABORT source/reason (PS3.8 Table 9-26), worded as DCMTK prints them, so
 * an operator sees the same words from either tool.
 */
import type { AAssociateRj } from './pdu.js';

const RESULT: Readonly<Record<number, string>> = { 1: 'Rejected Permanent', 2: 'Rejected Transient' };

const SOURCE: Readonly<Record<number, string>> = {
  1: 'Service User',
  2: 'Service Provider (ACSE Related)',
  3: 'Service Provider (Presentation Related)',
};

const REASON: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: { 1: 'No Reason Given', 2: 'Application Context Name Not Supported', 3: 'Calling AE Title Not Recognized', 7: 'Called AE Title Not Recognized' },
  2: { 1: 'No Reason Given', 2: 'Protocol Version Not Supported' },
  3: { 1: 'Temporary Congestion', 2: 'Local Limit Exceeded' },
};

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** "Rejected Permanent, Source: Service User, Reason: Called AE Title Not Recognized". */
export function describeRejection(rj: Pick<AAssociateRj, 'result' | 'source' | 'reason'>): string {
  const result = RESULT[rj.result] ?? `Result ${hex(rj.result)}`;
  const source = SOURCE[rj.source] ?? `Source ${hex(rj.source)}`;
  const reason = REASON[rj.source]?.[rj.reason] ?? `Reason ${hex(rj.reason)}`;
  return `${result}, Source: ${source}, Reason: ${reason}`;
}

const ABORT_SOURCE: Readonly<Record<number, string>> = { 0: 'Service User', 1: 'Reserved', 2: 'Service Provider' };
const ABORT_REASON: Readonly<Record<number, string>> = {
  0: 'Reason Not Specified',
  1: 'Unrecognized PDU',
  2: 'Unexpected PDU',
  4: 'Unrecognized PDU Parameter',
  5: 'Unexpected PDU Parameter',
  6: 'Invalid PDU Parameter Value',
};

/** "Source: Service Provider, Reason: Unexpected PDU" (the reason is only significant for the provider). */
export function describeAbort(source: number, reason: number): string {
  const s = ABORT_SOURCE[source] ?? `Source ${hex(source)}`;
  if (source !== 2) return `Source: ${s}`;
  return `Source: ${s}, Reason: ${ABORT_REASON[reason] ?? `Reason ${hex(reason)}`}`;
}

/** DIMSE status text for C-ECHO (PS3.7 Annex C and 9.1.5.1.4). */
export function describeStatus(status: number): string {
  if (status === 0x0000) return 'Success';
  if (status === 0x0211) return 'Unrecognized Operation';
  if (status === 0x0122) return 'SOP Class Not Supported';
  if (status === 0x0210) return 'Duplicate Invocation';
  if (status === 0x0212) return 'Mistyped Argument';
  if ((status & 0xf000) === 0xa000) return 'Failure';
  if ((status & 0xf000) === 0xc000) return 'Failure (Cannot Understand)';
  if ((status & 0xf000) === 0xb000) return 'Warning';
  return 'Unknown Status';
}
