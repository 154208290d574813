/**
 * The study and series rows of one merge transaction (study-store.ts), each
 * read once and written once, at the end of the transaction, whatever the
 * number of the batch's records that belong to it.
 *
 * Why: merging record by record updated a study's row once per record, and
 * with it the row's five indexes (state, last received, accession, patient,
 * study date). A batch of 100 CT instances of one study wrote them 100
 * times: 5–10 ms in the database worker, during which every C-STORE's
 * intake commit waited (issue 20). The values merged are the same as record
 * by record: what is kept here is what the row would hold after each
 * record, parsed as it would be read back.
 *
 * A statement of the transaction that reads these tables by itself (a
 * series deleted when emptied, a rejection note) must see the rows written:
 * flushSeries() or flush() first.
 */
import type Database from 'better-sqlite3';
import type { PatientAttributes, ReceiptData, SeriesAttributes, StudyAttributes } from '../../dicom/instance-record.js';
import { canonicalJson, legacyPrecedence, uniformOrigins, type Origins } from '../merge.js';
import type { StudyRow } from './study-row.js';

/** studies.origins: the precedence of each patient and study attribute, and of the receipt. */
export interface StudyOrigins {
  patient: Origins;
  study: Origins;
  receipt: string;
}

/** A study row as the merge sees it. */
export interface MergedStudy {
  /** Not in the table yet: written with INSERT. */
  inserted: boolean;
  charset: string | null;
  patient: PatientAttributes;
  study: StudyAttributes;
  lastReceipt: ReceiptData;
  origins: StudyOrigins;
  firstReceivedAt: string;
  lastReceivedAt: string;
}

/** A series row as the merge sees it. */
export interface MergedSeries {
  attributes: SeriesAttributes;
  origins: Origins;
  lastReceivedAt: string;
}

interface SeriesRow {
  attributes: string;
  last_received_at: string;
  origins: string | null;
}

export interface MergeRowStatements {
  selectStudy: Database.Statement<[string], StudyRow>;
  insertStudy: Database.Statement<[string, string | null, string, string, string, string, string, string]>;
  updateStudy: Database.Statement<[string | null, string, string, string, string, string, string, string]>;
  selectSeries: Database.Statement<[string, string], SeriesRow>;
  upsertSeries: Database.Statement<[string, string, number | null, string, string, string]>;
}

/** A value as it reads back from its canonical JSON (keys sorted, undefined members gone). */
export function asStored<T>(value: T): T {
  return JSON.parse(canonicalJson(value)) as T;
}

export class MergeRows {
  private readonly studies = new Map<string, MergedStudy>();
  private readonly series = new Map<string, { studyUid: string; seriesUid: string; row: MergedSeries }>();

  constructor(private readonly stmt: MergeRowStatements) {}

  /** The study as merged so far in this transaction, else as stored; undefined when it is neither. */
  study(studyUid: string): MergedStudy | undefined {
    const cached = this.studies.get(studyUid);
    if (cached !== undefined) return cached;
    const row = this.stmt.selectStudy.get(studyUid);
    if (row === undefined) return undefined;
    const study: MergedStudy = {
      inserted: false,
      charset: row.specific_character_set,
      patient: JSON.parse(row.patient) as PatientAttributes,
      study: JSON.parse(row.study) as StudyAttributes,
      lastReceipt: JSON.parse(row.last_receipt) as ReceiptData,
      origins: studyOriginsOf(row),
      firstReceivedAt: row.first_received_at,
      lastReceivedAt: row.last_received_at,
    };
    this.studies.set(studyUid, study);
    return study;
  }

  setStudy(studyUid: string, study: MergedStudy): void {
    this.studies.set(studyUid, study);
  }

  /** The series as merged so far in this transaction, else as stored; undefined when it is neither. */
  seriesOf(studyUid: string, seriesUid: string): MergedSeries | undefined {
    const key = seriesKey(studyUid, seriesUid);
    const cached = this.series.get(key);
    if (cached !== undefined) return cached.row;
    const row = this.stmt.selectSeries.get(studyUid, seriesUid);
    if (row === undefined) return undefined;
    const attributes = JSON.parse(row.attributes) as SeriesAttributes;
    const merged: MergedSeries = {
      attributes,
      origins: row.origins === null ? uniformOrigins(attributes, legacyPrecedence(row.last_received_at)) : (JSON.parse(row.origins) as Origins),
      lastReceivedAt: row.last_received_at,
    };
    this.series.set(key, { studyUid, seriesUid, row: merged });
    return merged;
  }

  setSeries(studyUid: string, seriesUid: string, row: MergedSeries): void {
    this.series.set(seriesKey(studyUid, seriesUid), { studyUid, seriesUid, row });
  }

  /** Writes one series now and forgets it (a statement reading the series table follows). */
  flushSeries(studyUid: string, seriesUid: string): void {
    const key = seriesKey(studyUid, seriesUid);
    const entry = this.series.get(key);
    if (entry === undefined) return;
    this.writeSeries(studyUid, seriesUid, entry.row);
    this.series.delete(key);
  }

  /** Writes every row merged so far and forgets them all. */
  flush(): void {
    for (const [studyUid, s] of this.studies) {
      const patient = canonicalJson(s.patient);
      const study = canonicalJson(s.study);
      const receipt = JSON.stringify(s.lastReceipt);
      const origins = JSON.stringify(s.origins);
      if (s.inserted) this.stmt.insertStudy.run(studyUid, s.charset, patient, study, receipt, s.firstReceivedAt, s.lastReceivedAt, origins);
      // [merge:first-received-is-earliest] (MIN(first_received_at, ?) in updateStudy)
      else this.stmt.updateStudy.run(s.charset, patient, study, receipt, origins, s.lastReceivedAt, s.firstReceivedAt, studyUid);
    }
    this.studies.clear();
    for (const { studyUid, seriesUid, row } of this.series.values()) this.writeSeries(studyUid, seriesUid, row);
    this.series.clear();
  }

  private writeSeries(studyUid: string, seriesUid: string, row: MergedSeries): void {
    this.stmt.upsertSeries.run(studyUid, seriesUid, numberOrNull(row.attributes.seriesNumber), canonicalJson(row.attributes), row.lastReceivedAt, JSON.stringify(row.origins));
  }
}

function seriesKey(studyUid: string, seriesUid: string): string {
  return `${studyUid}\u0000${seriesUid}`;
}

/** The origins of a study row; rows stored before origins were: every value at the row's last receipt. */
export function studyOriginsOf(row: StudyRow): StudyOrigins {
  if (row.origins !== null) return JSON.parse(row.origins) as StudyOrigins;
  const legacy = legacyPrecedence(row.last_received_at);
  return {
    patient: uniformOrigins(JSON.parse(row.patient) as object, legacy),
    study: uniformOrigins(JSON.parse(row.study) as object, legacy),
    receipt: legacy,
  };
}

export function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
