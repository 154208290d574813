import type Database from 'better-sqlite3';
import { SCHEMA_VERSION } from './database.js';

/** A publish_jobs row as stored. */
export interface PublishJobRow {
  study_uid: string;
  due_at: number;
  first_requested_at: number;
  attempts: number;
}

/**
 * The job queue's tables (instance_jobs, publish_jobs): its statements, run
 * in the database worker (database-worker.ts); the queue itself
 * (job-queue.ts) runs on the event loop and calls these through
 * database-client.ts. Each method is one statement or one transaction.
 */
export class SqliteQueueTables {
  private readonly stmt;
  private readonly insertAll: (jsons: string[]) => void;
  private readonly synchronousFull: Database.Statement;
  private readonly synchronousNormal: Database.Statement;
  private readonly probeWrite: Database.Statement;

  constructor(db: Database.Database) {
    this.stmt = {
      insertInstance: db.prepare<[string]>('INSERT INTO instance_jobs (record) VALUES (?)'),
      selectInstances: db.prepare<[number], { seq: number; record: string }>('SELECT seq, record FROM instance_jobs ORDER BY seq LIMIT ?'),
      deleteInstancesUpTo: db.prepare<[number]>('DELETE FROM instance_jobs WHERE seq <= ?'),
      countInstances: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM instance_jobs'),
      selectPublish: db.prepare<[string], PublishJobRow>('SELECT * FROM publish_jobs WHERE study_uid = ?'),
      upsertPublish: db.prepare<[string, number, number, number]>(
        `INSERT INTO publish_jobs (study_uid, due_at, first_requested_at, attempts) VALUES (?, ?, ?, ?)
         ON CONFLICT (study_uid) DO UPDATE SET due_at = excluded.due_at,
           first_requested_at = excluded.first_requested_at, attempts = excluded.attempts`,
      ),
      selectPublishesByDue: db.prepare<[number], PublishJobRow>('SELECT * FROM publish_jobs ORDER BY due_at LIMIT ?'),
      deletePublish: db.prepare<[string]>('DELETE FROM publish_jobs WHERE study_uid = ?'),
      updatePublishRetry: db.prepare<[number, number, string]>('UPDATE publish_jobs SET due_at = ?, attempts = ? WHERE study_uid = ?'),
      resetPublishAttempts: db.prepare<[string]>('UPDATE publish_jobs SET attempts = 0 WHERE study_uid = ?'),
      countPublishes: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM publish_jobs'),
    };
    this.insertAll = db.transaction((jsons: string[]) => {
      for (const json of jsons) this.stmt.insertInstance.run(json);
    });
    // Prepared once: db.pragma() parses its SQL on every call, twice per intake commit.
    this.synchronousFull = db.prepare('PRAGMA synchronous = FULL');
    this.synchronousNormal = db.prepare('PRAGMA synchronous = NORMAL');
    // Rewriting the header's user_version (same value) writes page 1: a real write, no schema change.
    this.probeWrite = db.prepare(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }

  /** The intake commit: the records in one transaction, fsynced (synchronous FULL) when `durable`. */
  insertInstances(jsons: string[], durable: boolean): void {
    if (durable) this.synchronousFull.run();
    try {
      this.insertAll(jsons);
    } finally {
      if (durable) this.synchronousNormal.run();
    }
  }

  /** A write that must reach the disk (StorageHealth's probe). */
  probe(): void {
    this.synchronousFull.run();
    try {
      this.probeWrite.run();
    } finally {
      this.synchronousNormal.run();
    }
  }

  selectInstances(limit: number): { seq: number; record: string }[] {
    return this.stmt.selectInstances.all(limit);
  }

  deleteInstancesUpTo(seq: number): void {
    this.stmt.deleteInstancesUpTo.run(seq);
  }

  counts(): { instances: number; publishes: number } {
    return { instances: this.stmt.countInstances.get()!.n, publishes: this.stmt.countPublishes.get()!.n };
  }

  selectPublish(studyInstanceUid: string): PublishJobRow | undefined {
    return this.stmt.selectPublish.get(studyInstanceUid);
  }

  upsertPublish(studyInstanceUid: string, dueAt: number, firstRequestedAt: number, attempts: number): void {
    this.stmt.upsertPublish.run(studyInstanceUid, dueAt, firstRequestedAt, attempts);
  }

  selectPublishesByDue(limit: number): PublishJobRow[] {
    return this.stmt.selectPublishesByDue.all(limit);
  }

  deletePublish(studyInstanceUid: string): void {
    this.stmt.deletePublish.run(studyInstanceUid);
  }

  updatePublishRetry(dueAt: number, attempts: number, studyInstanceUid: string): void {
    this.stmt.updatePublishRetry.run(dueAt, attempts, studyInstanceUid);
  }

  resetPublishAttempts(studyInstanceUid: string): void {
    this.stmt.resetPublishAttempts.run(studyInstanceUid);
  }
}
