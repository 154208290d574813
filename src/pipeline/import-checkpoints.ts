/**
 * Checkpoints of `dicom-fhir-bridge import` runs, kept in the store of the
 * mode (SQLite table import_checkpoints; a Redis hash per run): one per
 * study an import has queued whole, so `--resume` skips it.
 */
export interface ImportCheckpoints {
  /** The items (Study Instance UIDs) of `run` checkpointed so far. */
  done(run: string): Promise<Set<string>>;
  /** Records that every instance of `item` is durably queued. */
  mark(run: string, item: string, instances: number): Promise<void>;
  /** Forgets the run (a run started without --resume starts over). */
  clear(run: string): Promise<void>;
}
