/**
 * What an import reads from: a source lists the studies it has, and loads
 * the instance records of one study when asked. Sources: files (./files-source.ts),
 * DICOMweb and C-FIND.
 */
import type { InstanceRecord } from '../dicom/instance-record.js';

/** The filters of `import` (--study, --since, --until, --modality, --patient-id). */
export interface ImportFilters {
  studyInstanceUids: string[];
  /** YYYYMMDD, inclusive. */
  since?: string;
  /** YYYYMMDD, inclusive. */
  until?: string;
  modalities: string[];
  patientId?: string;
}

/** One study found by a source. */
export interface StudyWork {
  studyInstanceUid: string;
  /** Number of instances, when the listing tells it (a dry run counts with it and loads nothing). */
  instances?: number;
  /** The records of the study's instances; rejects with the reason the study cannot be read. */
  load(): Promise<InstanceRecord[]>;
}

/** Something that failed outside of a study (a file that is not DICOM, say): `subject` names it. */
export interface SourceProblem {
  subject: string;
  reason: string;
}

export interface ImportSource {
  /** Names the source and its filters: the run whose checkpoints --resume continues from. */
  readonly runId: string;
  /** The studies of the source that pass the filters. Problems outside of a study go to `problem`. */
  studies(problem: (p: SourceProblem) => void, signal: AbortSignal): AsyncIterable<StudyWork>;
  close?(): Promise<void>;
}

/** Whether a study of these records passes the filters (sources that cannot filter at the source). */
export function studyMatches(records: InstanceRecord[], filters: ImportFilters): boolean {
  const first = records[0];
  if (!first) return false;
  const { study } = first;
  if (filters.studyInstanceUids.length > 0 && !filters.studyInstanceUids.includes(study.studyInstanceUid)) return false;
  const date = records.find((r) => r.study.studyDate)?.study.studyDate;
  if (filters.since !== undefined && (date === undefined || date < filters.since)) return false;
  if (filters.until !== undefined && (date === undefined || date > filters.until)) return false;
  if (filters.patientId !== undefined && !records.some((r) => r.patient.patientId === filters.patientId)) return false;
  if (filters.modalities.length > 0 && !records.some((r) => r.series.modality !== undefined && filters.modalities.includes(r.series.modality))) {
    return false;
  }
  return true;
}
