/**
 * `import files PATH...`: DICOM Part 10 files, folders (recursive) and
 * DICOMDIRs. Every file is read first (header only: the pixel data is
 * streamed past), its records grouped by study, so filters and per-study
 * checkpoints apply as for an archive; the records of the whole run are
 * held in memory meanwhile (about 2 KB an instance). A file that is not
 * DICOM is a problem naming the file; the rest goes on.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { InstanceRecord } from '../dicom/instance-record.js';
import { errorMessage } from '../errors.js';
import { dicomdirFiles } from './dicomdir.js';
import { MEDIA_STORAGE_DIRECTORY_SOP_CLASS, NotDicomError, readFileMeta, readPart10Record } from './part10.js';
import { studyMatches, type ImportFilters, type ImportSource, type SourceProblem, type StudyWork } from './source.js';

export interface FilesSourceOptions {
  paths: string[];
  filters: ImportFilters;
  /** Files read at once. */
  concurrency: number;
  headerCapBytes: number;
  /** Called after each file read (progress of the scan). */
  onFileRead?: (filesRead: number) => void;
}

export class FilesSource implements ImportSource {
  readonly runId: string;

  constructor(private readonly options: FilesSourceOptions) {
    const absolute = options.paths.map((p) => resolve(p)).sort();
    this.runId = `files:${createHash('sha256').update(JSON.stringify([absolute, options.filters])).digest('hex').slice(0, 16)}`;
  }

  async *studies(problem: (p: SourceProblem) => void, signal: AbortSignal): AsyncIterable<StudyWork> {
    const files = await this.collect(problem);
    // Study → SOP Instance UID → record: a copy of a file (a DICOMDIR's, say) is one instance.
    const byStudy = new Map<string, Map<string, InstanceRecord>>();
    let next = 0;
    let read = 0;
    const receivedAt = new Date().toISOString();
    const worker = async (): Promise<void> => {
      while (next < files.length && !signal.aborted) {
        const file = files[next++]!;
        try {
          const { record } = await readPart10Record(
            file,
            { source: 'file', callingAeTitle: '', calledAeTitle: '', peerAddress: '', receivedAt },
            this.options.headerCapBytes,
          );
          const instances = byStudy.get(record.study.studyInstanceUid) ?? new Map<string, InstanceRecord>();
          instances.set(record.instance.sopInstanceUid, record);
          byStudy.set(record.study.studyInstanceUid, instances);
        } catch (err) {
          problem({ subject: file, reason: err instanceof NotDicomError ? err.message : `cannot read: ${errorMessage(err)}` });
        }
        this.options.onFileRead?.(++read);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, worker));
    for (const [studyInstanceUid, instances] of byStudy) {
      const records = [...instances.values()];
      if (!studyMatches(records, this.options.filters)) continue;
      yield { studyInstanceUid, instances: records.length, load: async () => records };
    }
  }

  /** Every file under the paths, once: folders recursively, a DICOMDIR as the files it references. */
  private async collect(problem: (p: SourceProblem) => void): Promise<string[]> {
    const files = new Set<string>();
    const dicomdirs = new Set<string>();
    const visit = async (path: string): Promise<void> => {
      let info;
      try {
        info = await stat(path);
      } catch (err) {
        problem({ subject: path, reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}` });
        return;
      }
      if (info.isDirectory()) {
        const entries = await readdir(path);
        for (const entry of entries.sort()) await visit(join(path, entry));
        return;
      }
      if (!info.isFile()) return;
      if (basename(path).toUpperCase() === 'DICOMDIR' && (await isDicomdir(path))) {
        try {
          for (const f of await dicomdirFiles(path)) files.add(f);
        } catch (err) {
          problem({ subject: path, reason: errorMessage(err) });
        }
        // The DICOMDIR itself is no instance.
        dicomdirs.add(path);
        return;
      }
      files.add(path);
    };
    for (const p of this.options.paths) await visit(resolve(p));
    return [...files].filter((f) => !dicomdirs.has(f));
  }
}

async function isDicomdir(path: string): Promise<boolean> {
  try {
    return (await readFileMeta(path)).mediaStorageSopClassUid === MEDIA_STORAGE_DIRECTORY_SOP_CLASS;
  } catch {
    return false;
  }
}
