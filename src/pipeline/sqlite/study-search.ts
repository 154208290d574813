/**
 * The admin console's StudyStore methods on SQLite (see study-store.ts,
 * "the admin console"): the search runs on indexes of the studies table
 * (migration 3: the state, last-received, accession, patient ID and study
 * date indexes; the expressions below are those indexed), and counts its
 * total with the same conditions. The publish history is the table
 * publish_attempts, trimmed to the newest PUBLISH_HISTORY_LIMIT per study
 * in the insert's transaction.
 */
import type Database from 'better-sqlite3';
import type { PersonName } from '../../dicom/attribute-values.js';
import { normalizeSearch } from '../study-search.js';
import {
  PUBLISH_HISTORY_LIMIT,
  type PageRequest,
  type PublishAttempt,
  type PublishStatus,
  type StudyListing,
  type StudyPage,
  type StudySearch,
} from '../study-store.js';
import type { StudyRow } from './study-row.js';

/** The indexed expressions (database.ts, migration 3): a query must spell them the same way to use the index. */
const ACCESSION = `json_extract(s.study, '$.accessionNumber')`;
const PATIENT_ID = `json_extract(s.patient, '$.patientId')`;
const STUDY_DATE = `json_extract(s.study, '$.studyDate')`;

const LISTING_COLUMNS = `s.study_uid, s.patient, s.study, s.last_receipt, s.first_received_at, s.last_received_at,
  s.publish_state, s.attempts, s.last_error, s.note, s.published_at, s.resource_id,
  (SELECT COUNT(DISTINCT i.series_uid) FROM instances i WHERE i.study_uid = s.study_uid) AS number_of_series,
  (SELECT COUNT(*) FROM instances i WHERE i.study_uid = s.study_uid) AS number_of_instances,
  (SELECT json_group_array(DISTINCT json_extract(se.attributes, '$.modality')) FROM series se
     WHERE se.study_uid = s.study_uid AND json_extract(se.attributes, '$.modality') IS NOT NULL) AS modalities`;

/** The studies row's columns of LISTING_COLUMNS, and the counts computed beside them. */
interface ListingRow
  extends Pick<
    StudyRow,
    | 'study_uid' | 'patient' | 'study' | 'last_receipt' | 'first_received_at' | 'last_received_at'
    | 'publish_state' | 'attempts' | 'last_error' | 'note' | 'published_at' | 'resource_id'
  > {
  number_of_series: number;
  number_of_instances: number;
  modalities: string;
}

/**
 * The table with, for an exact accession number or patient ID, the index to
 * take (without statistics the planner may prefer the state index, which
 * spares it the sort but reads every study of the state), and the WHERE
 * conditions with their parameters, in order.
 */
function conditions(search: StudySearch): { from: string; where: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  const add = (sql: string, value: string) => {
    parts.push(sql);
    params.push(value);
  };
  if (search.studyInstanceUid !== undefined) add('s.study_uid = ?', search.studyInstanceUid);
  if (search.accessionNumber !== undefined) add(`${ACCESSION} = ?`, search.accessionNumber);
  if (search.patientId !== undefined) add(`${PATIENT_ID} = ?`, search.patientId);
  if (search.state !== undefined) add('s.publish_state = ?', search.state);
  if (search.studyDateFrom !== undefined || search.studyDateTo !== undefined) {
    // Only a valid DA is in a date range (the Redis index keeps no other).
    parts.push(`${STUDY_DATE} GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'`);
    if (search.studyDateFrom !== undefined) add(`${STUDY_DATE} >= ?`, search.studyDateFrom);
    if (search.studyDateTo !== undefined) add(`${STUDY_DATE} <= ?`, search.studyDateTo);
  }
  if (search.receivedFrom !== undefined) add('s.last_received_at >= ?', search.receivedFrom);
  if (search.receivedBefore !== undefined) add('s.last_received_at < ?', search.receivedBefore);
  const index =
    search.studyInstanceUid !== undefined ? '' : search.accessionNumber !== undefined ? ' INDEXED BY studies_accession' : search.patientId !== undefined ? ' INDEXED BY studies_patient_id' : '';
  return { from: `studies s${index}`, where: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export class SqliteStudySearch {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly stmt;
  private readonly recordTransaction: (studyInstanceUid: string, attempt: PublishAttempt) => void;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      lastSeq: db.prepare<[string], { seq: number | null }>('SELECT MAX(seq) AS seq FROM publish_attempts WHERE study_uid = ?'),
      insert: db.prepare<[string, number, string]>('INSERT INTO publish_attempts (study_uid, seq, attempt) VALUES (?, ?, ?)'),
      trim: db.prepare<[string, number]>('DELETE FROM publish_attempts WHERE study_uid = ? AND seq <= ?'),
      history: db.prepare<[string, number], { attempt: string }>(
        'SELECT attempt FROM publish_attempts WHERE study_uid = ? ORDER BY seq DESC LIMIT ?',
      ),
    };
    this.recordTransaction = db.transaction((studyInstanceUid: string, attempt: PublishAttempt) => {
      const seq = (this.stmt.lastSeq.get(studyInstanceUid)?.seq ?? 0) + 1;
      this.stmt.insert.run(studyInstanceUid, seq, JSON.stringify(attempt));
      this.stmt.trim.run(studyInstanceUid, seq - PUBLISH_HISTORY_LIMIT);
    });
  }

  search(search: StudySearch, page: PageRequest): StudyPage {
    const normal = normalizeSearch(search, page);
    const { from, where, params } = conditions(normal.search);
    const total = (this.prepared(`SELECT COUNT(*) AS n FROM ${from} ${where}`).get(...params) as { n: number }).n;
    if (total <= normal.page.offset) return { total, studies: [] };
    const rows = this.prepared(
      `SELECT ${LISTING_COLUMNS} FROM ${from} ${where} ORDER BY s.last_received_at DESC, s.study_uid DESC LIMIT ? OFFSET ?`,
    ).all(...params, normal.page.limit, normal.page.offset) as ListingRow[];
    return { total, studies: rows.map(toListing) };
  }

  /** The query plan of the search's page query (for the test that the indexes are used). */
  plan(search: StudySearch): string[] {
    const { from, where, params } = conditions(normalizeSearch(search, { offset: 0, limit: 1 }).search);
    const sql = `EXPLAIN QUERY PLAN SELECT ${LISTING_COLUMNS} FROM ${from} ${where} ORDER BY s.last_received_at DESC, s.study_uid DESC LIMIT 1`;
    return (this.db.prepare(sql).all(...params) as { detail: string }[]).map((r) => r.detail);
  }

  record(studyInstanceUid: string, attempt: PublishAttempt): void {
    this.recordTransaction(studyInstanceUid, attempt);
  }

  history(studyInstanceUid: string): PublishAttempt[] {
    return this.stmt.history.all(studyInstanceUid, PUBLISH_HISTORY_LIMIT).map((r) => JSON.parse(r.attempt) as PublishAttempt);
  }

  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function toListing(row: ListingRow): StudyListing {
  const publish: PublishStatus = { state: row.publish_state, attempts: row.attempts };
  if (row.last_error !== null) publish.lastError = row.last_error;
  if (row.note !== null) publish.note = row.note;
  if (row.published_at !== null) publish.publishedAt = row.published_at;
  if (row.resource_id !== null) publish.resourceId = row.resource_id;
  const patient = JSON.parse(row.patient) as { patientId?: string; patientName?: PersonName };
  const study = JSON.parse(row.study) as { accessionNumber?: string; studyDate?: string; studyDescription?: string };
  const receipt = JSON.parse(row.last_receipt) as { callingAeTitle?: string };
  const listing: StudyListing = {
    studyInstanceUid: row.study_uid,
    numberOfSeries: row.number_of_series,
    numberOfInstances: row.number_of_instances,
    firstReceivedAt: row.first_received_at,
    lastReceivedAt: row.last_received_at,
    publish,
    modalities: (JSON.parse(row.modalities) as string[]).sort(),
  };
  if (patient.patientId !== undefined) listing.patientId = patient.patientId;
  if (patient.patientName !== undefined) listing.patientName = patient.patientName;
  if (study.accessionNumber !== undefined) listing.accessionNumber = study.accessionNumber;
  if (study.studyDate !== undefined) listing.studyDate = study.studyDate;
  if (study.studyDescription !== undefined) listing.studyDescription = study.studyDescription;
  if (receipt.callingAeTitle) listing.callingAeTitle = receipt.callingAeTitle;
  return listing;
}
