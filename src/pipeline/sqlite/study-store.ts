import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { InstanceAttributes, InstanceRecord } from '../../dicom/instance-record.js';
import type { KeyObjectDocument, RejectionReason } from '../../dicom/key-object-document.js';
import {
  canonicalJson,
  isLatest,
  keyObjectEntries,
  legacyPrecedence,
  mergeAttributes,
  precedenceOf,
  rejectionNoteOf,
  uniformOrigins,
  type Origins,
  type RejectionNote,
} from '../merge.js';
import { KEY_OBJECT_SELECTION_SOP_CLASS } from '../../dicom/key-object-document.js';
import type { Rejection, SeriesState, StudyState } from '../../dicom/study-state.js';
import { asStored, MergeRows, numberOrNull, type MergedStudy, type StudyOrigins } from './merge-rows.js';
import { SqliteStudySearch } from './study-search.js';
import type { StudyRow } from './study-row.js';
import {
  finishedStatus,
  type PageRequest,
  type PublishAttempt,
  type PublishFinish,
  type PublishStart,
  type PublishState,
  type PublishStatus,
  type StudyPage,
  type StudySearch,
  type StudyStore,
  type StudySummary,
  type SummaryFilter,
} from '../study-store.js';

export interface SqliteStudyStoreOptions {
  db: Database.Database;
  logger: Logger;
  /** Called once, when close() has finished with the database. */
  onClose?: () => void;
}

interface SummaryRow extends StudyRow {
  number_of_series: number;
  number_of_instances: number;
}

interface SeriesRow {
  attributes: string;
  last_received_at: string;
  origins: string | null;
}

interface InstanceRow {
  study_uid: string;
  series_uid: string;
  attributes: string;
  received_at: string;
  key_object: string | null;
  precedence: string | null;
  origins: string | null;
}

interface RejectionRow {
  reason: RejectionReason;
  kos_sop_uid: string;
  received_at: string;
}

/** PublishStatus members and the columns that hold them. */
const STATUS_COLUMNS = {
  attempts: 'attempts',
  lastError: 'last_error',
  note: 'note',
  publishedAt: 'published_at',
  lastResource: 'last_resource',
  resourceId: 'resource_id',
} as const satisfies Record<Exclude<keyof PublishStatus, 'state'>, string>;

const SUMMARY_COUNTS = `
  (SELECT COUNT(DISTINCT i.series_uid) FROM instances i WHERE i.study_uid = s.study_uid) AS number_of_series,
  (SELECT COUNT(*) FROM instances i WHERE i.study_uid = s.study_uid) AS number_of_instances`;

/**
 * StudyStore on SQLite: tables studies, series and instances, one row per
 * distinct UID. Attributes are kept as canonical JSON (sorted keys), so a
 * merge detects a change by comparing strings and a pure re-send of an
 * instance reports no change (and so causes no FHIR write).
 *
 * Rejection notes (see StudyStore): the note in rejection_notes, each
 * rejected (study, SOP) in rejections, the latest note per study in
 * study_rejections; all in the merge transaction. A non-rejection KOS keeps
 * its KeyObjectDocument in instances.key_object.
 *
 * Publish protocol: one process owns DATA_DIR and a publish begins and
 * finishes in it, so generations live in memory, only for the studies with
 * a publish under way (`publishing`): beginPublish gives the study one, a
 * change (merge or republish, once committed) gives it a new one,
 * finishPublish compares and drops it. (Two attempts of one study at once,
 * which the queue never runs: the earlier one finishes pending.)
 */
export class SqliteStudyStore implements StudyStore {
  private readonly db: Database.Database;
  private readonly logger: Logger;
  private readonly onClose: (() => void) | undefined;
  private closed = false;
  private readonly stmt;
  private readonly mergeTransaction: (records: InstanceRecord[]) => { changed: string[]; reported: string[] };
  /**
   * Studies with rows in rejections (a superset: entries stay after a
   * rollback). rejectionOf runs for every C-STORE before it is acknowledged,
   * and almost none belongs to such a study: those skip the query. This
   * store is the only writer of the table (one process owns DATA_DIR).
   */
  private readonly studiesWithRejections = new Set<string>();
  /** Study Instance UID → generation, for the studies with a publish under way (see the class comment). */
  private readonly publishing = new Map<string, number>();
  private lastGeneration = 0;
  private readonly beginTransaction: (studyInstanceUid: string) => PublishStart | undefined;
  /** UPDATE statements of setPublishStatus, by their SQL (one per combination of members). */
  private readonly statusUpdates = new Map<string, Database.Statement>();
  /** The admin console's search and publish history (study-search.ts). */
  readonly console: SqliteStudySearch;

  constructor(options: SqliteStudyStoreOptions) {
    this.db = options.db;
    this.logger = options.logger;
    this.onClose = options.onClose;
    const db = this.db;
    this.console = new SqliteStudySearch(db);
    this.stmt = {
      selectStudy: db.prepare<[string], StudyRow>('SELECT * FROM studies WHERE study_uid = ?'),
      selectState: db.prepare<[string], { publish_state: PublishState }>(
        'SELECT publish_state FROM studies WHERE study_uid = ?',
      ),
      insertStudy: db.prepare<[string, string | null, string, string, string, string, string, string]>(
        `INSERT INTO studies (study_uid, specific_character_set, patient, study, last_receipt, first_received_at, last_received_at, origins)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateStudy: db.prepare<[string | null, string, string, string, string, string, string, string]>(
        `UPDATE studies SET specific_character_set = ?, patient = ?, study = ?, last_receipt = ?, origins = ?,
           last_received_at = MAX(last_received_at, ?), first_received_at = MIN(first_received_at, ?) WHERE study_uid = ?`,
      ),
      markPending: db.prepare<[string]>(
        `UPDATE studies SET publish_state = 'pending', attempts = 0, last_error = NULL, note = NULL WHERE study_uid = ?`,
      ),
      markRepublish: db.prepare<[string]>(
        `UPDATE studies SET publish_state = 'pending', attempts = 0, last_error = NULL WHERE study_uid = ?`,
      ),
      countAttempt: db.prepare<[string]>(
        `UPDATE studies SET publish_state = 'pending', attempts = attempts + 1 WHERE study_uid = ?`,
      ),
      selectSeries: db.prepare<[string, string], SeriesRow>(
        'SELECT attributes, last_received_at, origins FROM series WHERE study_uid = ? AND series_uid = ?',
      ),
      upsertSeries: db.prepare<[string, string, number | null, string, string, string]>(
        `INSERT INTO series (study_uid, series_uid, series_number, attributes, last_received_at, origins) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (study_uid, series_uid) DO UPDATE SET series_number = excluded.series_number,
           attributes = excluded.attributes, origins = excluded.origins,
           last_received_at = MAX(series.last_received_at, excluded.last_received_at)`,
      ),
      deleteSeriesIfEmpty: db.prepare<[string, string, string, string]>(
        `DELETE FROM series WHERE study_uid = ? AND series_uid = ?
           AND NOT EXISTS (SELECT 1 FROM instances WHERE study_uid = ? AND series_uid = ?)`,
      ),
      selectInstance: db.prepare<[string], InstanceRow>(
        'SELECT study_uid, series_uid, attributes, received_at, key_object, precedence, origins FROM instances WHERE sop_uid = ?',
      ),
      upsertInstance: db.prepare<[string, string, string, number | null, string, string, string | null, string, string | null]>(
        `INSERT INTO instances (sop_uid, study_uid, series_uid, instance_number, attributes, received_at, key_object, precedence, origins)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sop_uid) DO UPDATE SET study_uid = excluded.study_uid, series_uid = excluded.series_uid,
           instance_number = excluded.instance_number, attributes = excluded.attributes, received_at = excluded.received_at,
           key_object = excluded.key_object, precedence = excluded.precedence, origins = excluded.origins`,
      ),
      deleteInstance: db.prepare<[string, string]>('DELETE FROM instances WHERE sop_uid = ? AND study_uid = ?'),
      selectRejection: db.prepare<[string, string], RejectionRow>(
        'SELECT reason, kos_sop_uid, received_at FROM rejections WHERE study_uid = ? AND sop_uid = ?',
      ),
      upsertRejection: db.prepare<[string, string, string, string, string]>(
        `INSERT INTO rejections (study_uid, sop_uid, reason, kos_sop_uid, received_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (study_uid, sop_uid) DO UPDATE SET reason = excluded.reason, kos_sop_uid = excluded.kos_sop_uid,
           received_at = excluded.received_at WHERE excluded.received_at >= rejections.received_at`,
      ),
      selectStudyRejection: db.prepare<[string], RejectionRow>(
        'SELECT reason, kos_sop_uid, received_at FROM study_rejections WHERE study_uid = ?',
      ),
      upsertStudyRejection: db.prepare<[string, string, string, string]>(
        `INSERT INTO study_rejections (study_uid, reason, kos_sop_uid, received_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (study_uid) DO UPDATE SET reason = excluded.reason, kos_sop_uid = excluded.kos_sop_uid,
           received_at = excluded.received_at`,
      ),
      upsertRejectionNote: db.prepare<[string, string, string, string, string, string]>(
        `INSERT INTO rejection_notes (kos_sop_uid, study_uid, series_uid, reason, received_at, record) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (kos_sop_uid) DO UPDATE SET study_uid = excluded.study_uid, series_uid = excluded.series_uid,
           reason = excluded.reason, received_at = excluded.received_at, record = excluded.record
           WHERE excluded.received_at >= rejection_notes.received_at`,
      ),
      selectStudySeries: db.prepare<[string], { series_uid: string; attributes: string }>(
        `SELECT series_uid, attributes FROM series WHERE study_uid = ?
         ORDER BY series_number IS NULL, series_number, series_uid`,
      ),
      selectStudyInstances: db.prepare<[string], { series_uid: string; attributes: string; key_object: string | null }>(
        `SELECT series_uid, attributes, key_object FROM instances WHERE study_uid = ?
         ORDER BY instance_number IS NULL, instance_number, sop_uid`,
      ),
      selectSummary: db.prepare<[string], SummaryRow>(`SELECT s.*, ${SUMMARY_COUNTS} FROM studies s WHERE s.study_uid = ?`),
      listSummaries: db.prepare<[number], SummaryRow>(
        `SELECT s.*, ${SUMMARY_COUNTS} FROM studies s ORDER BY s.last_received_at DESC, s.study_uid LIMIT ?`,
      ),
      listSummariesByState: db.prepare<[string, number], SummaryRow>(
        `SELECT s.*, ${SUMMARY_COUNTS} FROM studies s WHERE s.publish_state = ?
         ORDER BY s.last_received_at DESC, s.study_uid LIMIT ?`,
      ),
      listOldestSummaries: db.prepare<[number], SummaryRow>(
        `SELECT s.*, ${SUMMARY_COUNTS} FROM studies s ORDER BY s.last_received_at, s.study_uid LIMIT ?`,
      ),
      listOldestSummariesByState: db.prepare<[string, number], SummaryRow>(
        `SELECT s.*, ${SUMMARY_COUNTS} FROM studies s WHERE s.publish_state = ?
         ORDER BY s.last_received_at, s.study_uid LIMIT ?`,
      ),
      countByState: db.prepare<[], { publish_state: PublishState; n: number }>(
        'SELECT publish_state, COUNT(*) AS n FROM studies GROUP BY publish_state',
      ),
    };
    for (const row of db.prepare<[], { study_uid: string }>('SELECT DISTINCT study_uid FROM rejections').all())
      this.studiesWithRejections.add(row.study_uid);
    this.mergeTransaction = db.transaction((records: InstanceRecord[]) => {
      const changed = new Set<string>();
      const touched = new Set<string>();
      // Study and series rows read and written once per batch (merge-rows.ts).
      const rows = new MergeRows(this.stmt);
      for (const record of records) {
        const note = rejectionNoteOf(record);
        if (note) {
          rows.flush(); // the note reads and deletes rows itself
          this.applyRejectionNote(record, note, changed);
          for (const uid of note.byStudy.keys()) touched.add(uid);
          continue;
        }
        this.mergeOne(record, changed, rows);
        if (record.study?.studyInstanceUid) touched.add(record.study.studyInstanceUid);
      }
      rows.flush();
      // [merge:change-restarts-publish] (the generation: in mergeInstances, once committed)
      for (const uid of changed) this.stmt.markPending.run(uid);
      // [merge:pending-study-reported] A touched study whose last change is not published yet is returned
      // too: after a crash between this merge and schedulePublish, the re-merge of the batch schedules it again.
      const reported = new Set(changed);
      for (const uid of touched) {
        if (!changed.has(uid) && this.stmt.selectState.get(uid)?.publish_state === 'pending') reported.add(uid);
      }
      return { changed: [...changed], reported: [...reported] };
    });
    this.beginTransaction = db.transaction((studyInstanceUid: string): PublishStart | undefined => {
      const row = this.stmt.selectStudy.get(studyInstanceUid);
      if (row === undefined) return undefined;
      const state = this.assemble(row);
      this.stmt.countAttempt.run(studyInstanceUid);
      const status = toStatus({ ...row, publish_state: 'pending', attempts: row.attempts + 1 }, true);
      const generation = ++this.lastGeneration;
      this.publishing.set(studyInstanceUid, generation);
      return { state, status, generation };
    });
  }

  /**
   * Returns the studies that changed, plus touched studies still 'pending'
   * (their latest change is not published yet), so that a batch re-merged
   * after a crash still gets its publish scheduled. A pure re-send of an
   * instance of a published or failed study returns nothing.
   */
  async mergeInstances(records: InstanceRecord[]): Promise<string[]> {
    if (records.length === 0) return [];
    const { changed, reported } = this.mergeTransaction(records);
    for (const uid of changed) this.bumpGeneration(uid);
    return reported;
  }

  /** A committed change of a study with a publish under way: that publish finishes pending. */
  private bumpGeneration(studyInstanceUid: string): void {
    if (this.publishing.has(studyInstanceUid)) this.publishing.set(studyInstanceUid, ++this.lastGeneration);
  }

  private mergeOne(record: InstanceRecord, changed: Set<string>, rows: MergeRows): void {
    const studyUid = record.study?.studyInstanceUid;
    const seriesUid = record.series?.seriesInstanceUid;
    const sopUid = record.instance?.sopInstanceUid;
    if (!studyUid || !seriesUid || !sopUid) {
      // [merge:record-without-uids-skipped] The SCP rejects such instances (C000H); one slipping through must not block the queue.
      this.logger.warn({ studyUid, seriesUid, sopUid }, 'instance record without its UIDs skipped');
      return;
    }
    const rejection = this.studiesWithRejections.has(studyUid) ? this.stmt.selectRejection.get(studyUid, sopUid) : undefined;
    if (rejection !== undefined) {
      // [merge:rejected-instances-stay-out] Rejected by a note merged earlier: the instance stays out (its study attributes too).
      this.logger.debug({ studyUid, sopUid, kosSopInstanceUid: rejection.kos_sop_uid }, 'rejected instance skipped');
      return;
    }
    const receivedAt = record.receipt.receivedAt;
    // [merge:latest-present-value-wins] [merge:c-store-outranks-import] Every value below is merged by this
    // precedence (source rank, then receivedAt): an absent value leaves the known one, an import only fills in.
    const precedence = precedenceOf(record.receipt);
    const charset = record.specificCharacterSet ?? null;

    // Study level. [merge:latest-received-wins] [merge:change-is-a-different-value] (canonical JSON compared, per attribute)
    // [merge:calling-ae-is-a-change] The calling AE selects peer settings of the mapping.
    const study = rows.study(studyUid);
    if (study === undefined) {
      rows.setStudy(studyUid, {
        inserted: true,
        charset,
        patient: asStored(record.patient ?? {}),
        study: asStored(record.study),
        lastReceipt: record.receipt,
        origins: {
          patient: uniformOrigins(record.patient ?? {}, precedence),
          study: uniformOrigins(record.study, precedence),
          receipt: precedence,
        },
        firstReceivedAt: receivedAt,
        lastReceivedAt: receivedAt,
      });
      changed.add(studyUid);
    } else {
      const known = study.origins;
      const patient = mergeAttributes(study.patient, known.patient, record.patient ?? {}, precedence);
      const studyLevel = mergeAttributes(study.study, known.study, record.study, precedence);
      // The receipt (and the charset it came with) is that of the record of highest precedence.
      const receiptWins = precedence >= known.receipt;
      if (
        patient.changed ||
        studyLevel.changed ||
        (receiptWins && (study.charset !== charset || study.lastReceipt.callingAeTitle !== record.receipt.callingAeTitle))
      ) {
        changed.add(studyUid);
      }
      const origins: StudyOrigins = { patient: patient.origins, study: studyLevel.origins, receipt: receiptWins ? precedence : known.receipt };
      const merged: MergedStudy = {
        inserted: study.inserted,
        charset: receiptWins ? charset : study.charset,
        patient: patient.value,
        study: studyLevel.value,
        lastReceipt: receiptWins ? record.receipt : study.lastReceipt,
        origins,
        // [merge:first-received-is-earliest]
        firstReceivedAt: receivedAt < study.firstReceivedAt ? receivedAt : study.firstReceivedAt,
        lastReceivedAt: receivedAt > study.lastReceivedAt ? receivedAt : study.lastReceivedAt,
      };
      rows.setStudy(studyUid, merged);
    }

    // Series level. [merge:latest-received-wins] (per attribute, as above)
    const series = rows.seriesOf(studyUid, seriesUid);
    const seriesMerge =
      series === undefined
        ? { value: asStored(record.series), origins: uniformOrigins(record.series, precedence), changed: true }
        : mergeAttributes(series.attributes, series.origins, record.series, precedence);
    if (seriesMerge.changed) changed.add(studyUid);
    rows.setSeries(studyUid, seriesUid, {
      attributes: seriesMerge.value,
      origins: seriesMerge.origins,
      lastReceivedAt: series === undefined || receivedAt > series.lastReceivedAt ? receivedAt : series.lastReceivedAt,
    });

    // Instance level. [merge:keyed-by-sop-instance-uid] (the primary key of instances)
    const instance = this.stmt.selectInstance.get(sopUid);
    const keyObjectJson = record.keyObject ? canonicalJson(record.keyObject) : null;
    if (instance === undefined) {
      this.stmt.upsertInstance.run(
        sopUid,
        studyUid,
        seriesUid,
        numberOrNull(record.instance.instanceNumber),
        canonicalJson(record.instance),
        receivedAt,
        keyObjectJson,
        precedence,
        null,
      );
      changed.add(studyUid);
      return;
    }
    const instancePrecedence = instance.precedence ?? legacyPrecedence(instance.received_at);
    // [merge:older-instance-changes-nothing] A record of lower precedence only fills in values the instance lacks:
    // it does not move the instance, nor change its document.
    const wins = precedence >= instancePrecedence;
    const storedAttributes = JSON.parse(instance.attributes) as InstanceAttributes;
    const storedOrigins = { ...uniformOrigins(storedAttributes, instancePrecedence), ...(instance.origins === null ? {} : (JSON.parse(instance.origins) as Origins)) };
    const attributes = mergeAttributes(storedAttributes, storedOrigins, record.instance, precedence);
    // [merge:key-object-document-kept] A KOS keeps its document; a record that is no KOS drops it.
    // [merge:latest-present-value-wins] A KOS record without its document (not readable, or an import that
    // cannot read it) keeps the known one.
    let keyObject = instance.key_object;
    if (wins) {
      if (keyObjectJson !== null) keyObject = keyObjectJson;
      else if (record.instance.sopClassUid !== KEY_OBJECT_SELECTION_SOP_CLASS) keyObject = null;
    }
    const toStudy = wins ? studyUid : instance.study_uid;
    const toSeries = wins ? seriesUid : instance.series_uid;
    const moved = instance.study_uid !== toStudy || instance.series_uid !== toSeries;
    if (!attributes.changed && keyObject === instance.key_object && !moved && !wins) return;
    if (attributes.changed || keyObject !== instance.key_object || moved) changed.add(toStudy);
    const newPrecedence = wins ? precedence : instancePrecedence;
    this.stmt.upsertInstance.run(
      sopUid,
      toStudy,
      toSeries,
      numberOrNull(attributes.value.instanceNumber),
      canonicalJson(attributes.value),
      wins ? receivedAt : instance.received_at,
      keyObject,
      newPrecedence,
      exceptionalOrigins(attributes.origins, newPrecedence),
    );
    // [merge:sop-moves-between-series] A re-send in another series (or study) moves it; an emptied series goes.
    if (moved) {
      changed.add(instance.study_uid);
      rows.flushSeries(instance.study_uid, instance.series_uid); // the statement below reads it
      this.stmt.deleteSeriesIfEmpty.run(instance.study_uid, instance.series_uid, instance.study_uid, instance.series_uid);
    }
  }

  /**
   * A rejection note: kept in rejection_notes; per referenced study, each
   * instance remembered as rejected and removed (an emptied series goes),
   * and the study's latest rejection updated. A study not in the store is
   * not created (its instances are skipped when they come).
   * [merge:rejection-removes-instances] [merge:rejection-creates-no-study] (nothing inserted into studies here)
   * [merge:latest-rejection-wins] (upsertRejection and upsertRejectionNote keep the latest received; study_rejections below)
   */
  private applyRejectionNote(record: InstanceRecord, note: RejectionNote, changed: Set<string>): void {
    const { reason, kosSopInstanceUid, receivedAt } = note;
    this.stmt.upsertRejectionNote.run(
      kosSopInstanceUid,
      record.study?.studyInstanceUid ?? '',
      record.series?.seriesInstanceUid ?? '',
      reason,
      receivedAt,
      JSON.stringify(record),
    );
    for (const [studyUid, sopUids] of note.byStudy) {
      let studyChanged = false;
      for (const sopUid of sopUids) {
        this.studiesWithRejections.add(studyUid);
        this.stmt.upsertRejection.run(studyUid, sopUid, reason, kosSopInstanceUid, receivedAt);
        const instance = this.stmt.selectInstance.get(sopUid);
        if (instance === undefined || instance.study_uid !== studyUid) continue;
        this.stmt.deleteInstance.run(sopUid, studyUid);
        this.stmt.deleteSeriesIfEmpty.run(studyUid, instance.series_uid, studyUid, instance.series_uid);
        studyChanged = true;
      }
      const latest = this.stmt.selectStudyRejection.get(studyUid);
      if (latest === undefined || isLatest(receivedAt, latest.received_at)) {
        if (latest?.reason !== reason || latest.kos_sop_uid !== kosSopInstanceUid) studyChanged = true;
        this.stmt.upsertStudyRejection.run(studyUid, reason, kosSopInstanceUid, receivedAt);
      }
      if (studyChanged && this.stmt.selectState.get(studyUid) !== undefined) changed.add(studyUid);
    }
    this.logger.info(
      { kosSopInstanceUid, reason, studies: [...note.byStudy.keys()], instances: [...note.byStudy.values()].reduce((n, l) => n + l.length, 0) },
      'rejection note merged',
    );
  }

  async rejectionOf(studyInstanceUid: string, sopInstanceUid: string): Promise<Rejection | undefined> {
    if (!this.studiesWithRejections.has(studyInstanceUid)) return undefined;
    const row = this.stmt.selectRejection.get(studyInstanceUid, sopInstanceUid);
    return row === undefined ? undefined : { reason: row.reason, kosSopInstanceUid: row.kos_sop_uid };
  }

  /** The studies with rows in rejections (a superset, see studiesWithRejections): the event loop's copy (remote-study-store.ts). */
  rejectedStudies(): string[] {
    return [...this.studiesWithRejections];
  }

  async getStudy(studyInstanceUid: string): Promise<StudyState | undefined> {
    const row = this.stmt.selectStudy.get(studyInstanceUid);
    return row === undefined ? undefined : this.assemble(row);
  }

  /** The StudyState of a study row: its series and instances in order, rejection and key objects. */
  private assemble(row: StudyRow): StudyState {
    const studyInstanceUid = row.study_uid;
    const bySeries = new Map<string, SeriesState>();
    const series: SeriesState[] = [];
    for (const s of this.stmt.selectStudySeries.all(studyInstanceUid)) {
      const state: SeriesState = { attributes: JSON.parse(s.attributes), instances: [] };
      bySeries.set(s.series_uid, state);
      series.push(state);
    }
    const documents = new Map<string, KeyObjectDocument>();
    for (const i of this.stmt.selectStudyInstances.all(studyInstanceUid)) {
      const attributes = JSON.parse(i.attributes) as InstanceAttributes;
      bySeries.get(i.series_uid)?.instances.push(attributes);
      if (i.key_object !== null) documents.set(attributes.sopInstanceUid, JSON.parse(i.key_object) as KeyObjectDocument);
    }
    const state: StudyState = {
      studyInstanceUid,
      patient: JSON.parse(row.patient),
      study: JSON.parse(row.study),
      series: series.filter((s) => s.instances.length > 0),
      lastReceipt: JSON.parse(row.last_receipt),
      firstReceivedAt: row.first_received_at,
      lastReceivedAt: row.last_received_at,
    };
    if (row.specific_character_set !== null) state.specificCharacterSet = row.specific_character_set;
    const rejection = this.stmt.selectStudyRejection.get(studyInstanceUid);
    if (rejection !== undefined) state.rejection = { reason: rejection.reason, kosSopInstanceUid: rejection.kos_sop_uid };
    const keyObjects = keyObjectEntries(state.series, documents);
    if (keyObjects.length > 0) state.keyObjects = keyObjects;
    return state;
  }

  async getSummary(studyInstanceUid: string): Promise<StudySummary | undefined> {
    const row = this.stmt.selectSummary.get(studyInstanceUid);
    return row === undefined ? undefined : toSummary(row, true);
  }

  /** Newest first (by last received instance) unless oldestFirst. Summaries in a list leave out lastResource. */
  async listSummaries(filter: SummaryFilter = {}): Promise<StudySummary[]> {
    const limit = filter.limit ?? -1;
    const { stmt } = this;
    const rows =
      filter.state === undefined
        ? (filter.oldestFirst ? stmt.listOldestSummaries : stmt.listSummaries).all(limit)
        : (filter.oldestFirst ? stmt.listOldestSummariesByState : stmt.listSummariesByState).all(filter.state, limit);
    return rows.map((row) => toSummary(row, false));
  }

  async beginPublish(studyInstanceUid: string): Promise<PublishStart | undefined> {
    return this.beginTransaction(studyInstanceUid);
  }

  async finishPublish(studyInstanceUid: string, generation: number, outcome: PublishFinish): Promise<PublishState | undefined> {
    const current = this.publishing.get(studyInstanceUid) === generation;
    if (current) this.publishing.delete(studyInstanceUid);
    // Changed meanwhile: what the attempt learned is kept, the state stays as the change left it (pending).
    this.updateStatus(studyInstanceUid, current ? outcome.state : undefined, finishedStatus(outcome));
    return this.stmt.selectState.get(studyInstanceUid)?.publish_state;
  }

  async republish(studyInstanceUid: string): Promise<PublishState | undefined> {
    const previous = this.stmt.selectState.get(studyInstanceUid)?.publish_state;
    if (previous === undefined) return undefined;
    this.stmt.markRepublish.run(studyInstanceUid);
    this.bumpGeneration(studyInstanceUid);
    return previous;
  }

  /**
   * Sets `state` and each member present in `status`; a member present with
   * the value undefined clears it (e.g. `lastError: undefined`). A study
   * that is not in the store is left alone.
   */
  async setPublishStatus(studyInstanceUid: string, status: Partial<PublishStatus> & { state: PublishState }): Promise<void> {
    this.updateStatus(studyInstanceUid, status.state, status);
  }

  /** One UPDATE of the state (unless undefined) and of the members present in `status`. */
  private updateStatus(studyInstanceUid: string, state: PublishState | undefined, status: Partial<PublishStatus>): void {
    const sets: string[] = [];
    const values: (string | number | null)[] = [];
    if (state !== undefined) {
      sets.push('publish_state = ?');
      values.push(state);
    }
    for (const [member, column] of Object.entries(STATUS_COLUMNS) as [keyof typeof STATUS_COLUMNS, string][]) {
      if (!Object.prototype.hasOwnProperty.call(status, member)) continue;
      const value = status[member];
      sets.push(`${column} = ?`);
      if (value === undefined || value === null) values.push(null);
      else if (member === 'lastResource') values.push(JSON.stringify(value));
      else values.push(value as string | number);
    }
    if (sets.length === 0) return;
    values.push(studyInstanceUid);
    const sql = `UPDATE studies SET ${sets.join(', ')} WHERE study_uid = ?`;
    let statement = this.statusUpdates.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statusUpdates.set(sql, statement);
    }
    statement.run(...values);
  }

  async countByState(): Promise<Record<PublishState, number>> {
    const counts: Record<PublishState, number> = { pending: 0, published: 0, failed: 0 };
    for (const row of this.stmt.countByState.all()) counts[row.publish_state] = row.n;
    return counts;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
  }

  // ---- the admin console (study-search.ts) ----

  async searchSummaries(search: StudySearch, page: PageRequest): Promise<StudyPage> {
    return this.console.search(search, page);
  }

  async recordPublishAttempt(studyInstanceUid: string, attempt: PublishAttempt): Promise<void> {
    this.console.record(studyInstanceUid, attempt);
  }

  async publishHistory(studyInstanceUid: string): Promise<PublishAttempt[]> {
    return this.console.history(studyInstanceUid);
  }
}

/** The origins of a study row; a row stored before precedences were has C-STORE values of its last receipt. */

/** instances.origins: only the attributes whose precedence is not the instance's (null when there is none, as usual). */
function exceptionalOrigins(origins: Origins, precedence: string): string | null {
  const out: Origins = {};
  let any = false;
  for (const [name, p] of Object.entries(origins)) {
    if (p !== precedence) {
      out[name] = p;
      any = true;
    }
  }
  return any ? JSON.stringify(out) : null;
}

function toStatus(row: StudyRow, withResource: boolean): PublishStatus {
  const publish: PublishStatus = { state: row.publish_state, attempts: row.attempts };
  if (row.last_error !== null) publish.lastError = row.last_error;
  if (row.note !== null) publish.note = row.note;
  if (row.published_at !== null) publish.publishedAt = row.published_at;
  if (row.resource_id !== null) publish.resourceId = row.resource_id;
  if (withResource && row.last_resource !== null) publish.lastResource = JSON.parse(row.last_resource);
  return publish;
}

function toSummary(row: SummaryRow, withResource: boolean): StudySummary {
  const publish = toStatus(row, withResource);
  return {
    studyInstanceUid: row.study_uid,
    numberOfSeries: row.number_of_series,
    numberOfInstances: row.number_of_instances,
    firstReceivedAt: row.first_received_at,
    lastReceivedAt: row.last_received_at,
    publish,
  };
}
