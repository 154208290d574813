import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` is the number of
 * those applied. Append, never edit a released step.
 */
const MIGRATIONS: readonly string[] = [
  // 1: queues and study state.
  `
  CREATE TABLE instance_jobs (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    record TEXT NOT NULL
  );
  CREATE TABLE publish_jobs (
    study_uid          TEXT PRIMARY KEY,
    due_at             INTEGER NOT NULL,
    first_requested_at INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX publish_jobs_due ON publish_jobs (due_at);

  CREATE TABLE studies (
    study_uid              TEXT PRIMARY KEY,
    specific_character_set TEXT,
    patient                TEXT NOT NULL,
    study                  TEXT NOT NULL,
    last_receipt           TEXT NOT NULL,
    first_received_at      TEXT NOT NULL,
    last_received_at       TEXT NOT NULL,
    publish_state          TEXT NOT NULL DEFAULT 'pending',
    attempts               INTEGER NOT NULL DEFAULT 0,
    last_error             TEXT,
    note                   TEXT,
    published_at           TEXT,
    last_resource          TEXT,
    resource_id            TEXT
  ) WITHOUT ROWID;
  CREATE INDEX studies_state ON studies (publish_state, last_received_at);
  CREATE INDEX studies_last_received ON studies (last_received_at);

  CREATE TABLE series (
    study_uid        TEXT NOT NULL,
    series_uid       TEXT NOT NULL,
    series_number    INTEGER,
    attributes       TEXT NOT NULL,
    last_received_at TEXT NOT NULL,
    PRIMARY KEY (study_uid, series_uid)
  ) WITHOUT ROWID;

  CREATE TABLE instances (
    sop_uid         TEXT PRIMARY KEY,
    study_uid       TEXT NOT NULL,
    series_uid      TEXT NOT NULL,
    instance_number INTEGER,
    attributes      TEXT NOT NULL,
    received_at     TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX instances_study ON instances (study_uid, series_uid, instance_number, sop_uid);
  `,
  // 2: IHE IOCM rejection notes and kept Key Object Selection Documents.
  `
  -- Each rejection note received (auditable), whole record as JSON; never an instance.
  CREATE TABLE rejection_notes (
    kos_sop_uid TEXT PRIMARY KEY,
    study_uid   TEXT NOT NULL,
    series_uid  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    record      TEXT NOT NULL
  ) WITHOUT ROWID;
  -- Rejected instances per study (latest received note wins), whether or not they have arrived.
  CREATE TABLE rejections (
    study_uid   TEXT NOT NULL,
    sop_uid     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    kos_sop_uid TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (study_uid, sop_uid)
  ) WITHOUT ROWID;
  -- The latest received rejection note per study (the status of a study left empty).
  CREATE TABLE study_rejections (
    study_uid   TEXT PRIMARY KEY,
    reason      TEXT NOT NULL,
    kos_sop_uid TEXT NOT NULL,
    received_at TEXT NOT NULL
  ) WITHOUT ROWID;
  -- KeyObjectDocument (canonical JSON) of a non-rejection KOS instance.
  ALTER TABLE instances ADD COLUMN key_object TEXT;
  `,
  // 3: the precedence of each stored value (merge.ts: latest-present-value-wins, c-store-outranks-import),
  // and the checkpoints of imports. NULL precedences: C-STORE values at the row's receivedAt.
  `
  -- {"patient": {attribute: precedence}, "study": {...}, "receipt": precedence}
  ALTER TABLE studies ADD COLUMN origins TEXT;
  -- {attribute: precedence}
  ALTER TABLE series ADD COLUMN origins TEXT;
  -- Precedence of the record the instance's series, receipt and document come from.
  ALTER TABLE instances ADD COLUMN precedence TEXT;
  -- {attribute: precedence}, only the attributes whose precedence is not the instance's.
  ALTER TABLE instances ADD COLUMN origins TEXT;
  -- One row per study an import run has queued whole (dicom-fhir-bridge import --resume).
  CREATE TABLE import_checkpoints (
    run       TEXT NOT NULL,
    item      TEXT NOT NULL,
    instances INTEGER NOT NULL,
    done_at   TEXT NOT NULL,
    PRIMARY KEY (run, item)
  ) WITHOUT ROWID;
  `,
  // 4: the admin console: search indexes (sqlite/study-search.ts) and the publish history.
  `
  -- Exact matches of the console's search; the expressions are those of study-search.ts.
  CREATE INDEX IF NOT EXISTS studies_accession ON studies (json_extract(study, '$.accessionNumber'));
  CREATE INDEX IF NOT EXISTS studies_patient_id ON studies (json_extract(patient, '$.patientId'));
  CREATE INDEX IF NOT EXISTS studies_study_date ON studies (json_extract(study, '$.studyDate'));
  -- The last attempts of each study (PUBLISH_HISTORY_LIMIT), attempt as JSON; seq grows per study.
  CREATE TABLE IF NOT EXISTS publish_attempts (
    study_uid TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    attempt   TEXT NOT NULL,
    PRIMARY KEY (study_uid, seq)
  ) WITHOUT ROWID;
  `,
  // 5: retention of published studies (sqlite/retention.ts, RETENTION_PUBLISHED_DAYS).
  `
  -- When retention compacted the study's last_resource and publish history; NULL: not (yet).
  ALTER TABLE studies ADD COLUMN retained_at TEXT;
  -- The studies retention has still to visit, oldest publish first.
  CREATE INDEX studies_retainable ON studies (published_at) WHERE publish_state = 'published' AND retained_at IS NULL;
  -- A publish writes the full resource again: the study is retained again after the period.
  CREATE TRIGGER studies_unretain AFTER UPDATE OF last_resource ON studies
    WHEN OLD.retained_at IS NOT NULL AND NEW.retained_at IS NOT NULL
  BEGIN
    UPDATE studies SET retained_at = NULL WHERE study_uid = NEW.study_uid;
  END;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating if needed) `<dataDir>/bridge.sqlite` in WAL mode and
 * migrates it. Exclusive locking mode, set before WAL is first used: the WAL
 * index lives in this connection's heap instead of a memory-mapped `-shm`
 * file. A write to a mapped page that the filesystem refuses (write
 * permission lost: `chattr +i`) is a SIGBUS that kills the process; a
 * refused write() is an error the bridge answers (A700H) and recovers from.
 * One connection, then, for the whole database, as the embedded mode
 * already is (the DATA_DIR lock, data-dir-lock.ts, keeps other bridges out):
 * other processes cannot open the file while the bridge has it open.
 */
export function openDatabase(dataDir: string, synchronous: SqliteSynchronous): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'bridge.sqlite'));
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = OFF');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `bridge.sqlite has schema version ${current}, newer than this bridge knows (${SCHEMA_VERSION}): use a newer bridge or another data directory`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
