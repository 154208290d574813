/**
 * Synthetic DICOM studies for tests: runs fixtures/generate-study.py (pydicom,
 * /usr/bin/python3) into a fresh temp directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './run.js';

export const GENERATOR = resolve(fileURLToPath(new URL('../../fixtures/generate-study.py', import.meta.url)));
export const PYTHON = '/usr/bin/python3';

export interface GenerateStudyOptions {
  /** Number of series (default 1). */
  series?: number;
  /** Instances per series (default 1). */
  instances?: number;
  /** Modalities cycled per series (default ['CT']); CT, PT, MR, NM, US, CR, DX, MG, XA, OT. */
  modalities?: string[];
  /** 'small' = 64×64 16-bit (default), 'ct' = 512×512 16-bit (~0.5 MB a file). */
  size?: 'small' | 'ct';
  studyInstanceUid?: string;
  patientId?: string;
  patientName?: string;
  accession?: string;
  /** Makes UIDs (unless studyInstanceUid is given) and pixels deterministic; omit for fresh UIDs. */
  seed?: number;
  studyDescription?: string;
  bodyPart?: string;
  /** Study Date, DA (default 20240301). */
  studyDate?: string;
  /** (0008,1032) Procedure Code Sequence item: code, scheme, meaning. */
  procedureCode?: { code: string; scheme: string; meaning: string };
  /** Parent of the temp directory (default os.tmpdir()). */
  parentDir?: string;
}

export interface GeneratedSeries {
  seriesInstanceUid: string;
  modality: string;
  sopInstanceUids: string[];
}

export interface GeneratedStudy {
  /** Temp directory holding S001/I00001.dcm ...; remove with removeStudy(dir). */
  dir: string;
  studyInstanceUid: string;
  series: GeneratedSeries[];
  /** Absolute paths, series by series, in instance order. */
  files: string[];
  /** Total bytes written. */
  bytes: number;
}

export async function generateStudy(options: GenerateStudyOptions = {}): Promise<GeneratedStudy> {
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'dfb-study-'));
  const args = [GENERATOR, '--out', dir];
  const add = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) args.push(flag, String(value));
  };
  add('--series', options.series);
  add('--instances', options.instances);
  add('--modalities', options.modalities?.join(','));
  add('--size', options.size);
  add('--study-uid', options.studyInstanceUid);
  add('--patient-id', options.patientId);
  add('--patient-name', options.patientName);
  add('--accession', options.accession);
  add('--seed', options.seed);
  add('--study-description', options.studyDescription);
  add('--body-part', options.bodyPart);
  add('--study-date', options.studyDate);
  add(
    '--procedure-code',
    options.procedureCode && `${options.procedureCode.code}^${options.procedureCode.scheme}^${options.procedureCode.meaning}`,
  );
  const result = await run(PYTHON, args, { timeoutMs: 300_000 });
  if (result.code !== 0) {
    await removeStudy(dir);
    throw new Error(`generate-study.py exited ${result.code ?? result.signal}: ${result.stderr.trim()}`);
  }
  const summary = JSON.parse(result.stdout) as {
    studyInstanceUid: string;
    series: GeneratedSeries[];
    bytes: number;
    paths: string[];
  };
  return {
    dir,
    studyInstanceUid: summary.studyInstanceUid,
    series: summary.series,
    files: summary.paths.map((p) => join(dir, p)),
    bytes: summary.bytes,
  };
}

export async function removeStudy(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
