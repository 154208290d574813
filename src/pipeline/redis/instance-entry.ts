/**
 * One entry of the instances stream read back: its record, or why it cannot
 * be merged. Each entry is read by itself, so that one unreadable entry does
 * not fail its batch. Reasons are log-safe: they never quote the record (a
 * JSON parse error of V8 quotes the text around the fault, which may be a
 * patient's name).
 */
import type { InstanceRecord } from '../../dicom/instance-record.js';

export type ReadEntry = { record: InstanceRecord } | { reason: string };

export function readInstanceEntry(fields: string[]): ReadEntry {
  let json: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'r') json = fields[i + 1];
  if (json === undefined) return { reason: 'stream entry without its r field' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { reason: 'record is not valid JSON' };
  }
  // What the merge keys a record by: without these it would land under the wrong keys, not fail.
  const r = value as Partial<Record<'study' | 'series' | 'instance' | 'receipt', Record<string, unknown>>> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return { reason: 'record is not a JSON object' };
  if (typeof r.study?.studyInstanceUid !== 'string') return { reason: 'record without study.studyInstanceUid' };
  if (typeof r.series?.seriesInstanceUid !== 'string') return { reason: 'record without series.seriesInstanceUid' };
  if (typeof r.instance?.sopInstanceUid !== 'string') return { reason: 'record without instance.sopInstanceUid' };
  if (typeof r.receipt?.receivedAt !== 'string') return { reason: 'record without receipt.receivedAt' };
  return { record: value as InstanceRecord };
}

/**
 * A merge error as a log line may carry it: the error's class and message,
 * quoted text dropped (a message may quote a value of the record), at most
 * 200 characters.
 */
export function logSafeReason(err: unknown): string {
  const name = err instanceof Error ? err.name : 'Error';
  const message = (err instanceof Error ? err.message : String(err))
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '…')
    .replace(/\s+/g, ' ');
  const text = `merge failed: ${name}: ${message}`;
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
