/**
 * The files source on generated Part 10 files: the same record as the
 * C-STORE sink gives, filters, a DICOMDIR read as its files (not twice with
 * its folder), and a one-line reason per file that is not DICOM.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesSource } from '../../src/import/files-source.js';
import { readPart10Record } from '../../src/import/part10.js';
import type { ImportFilters, SourceProblem } from '../../src/import/source.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';

const NO_FILTERS: ImportFilters = { studyInstanceUids: [], modalities: [] };
const CAP = 16 * 1024 * 1024;

async function list(paths: string[], filters: ImportFilters = NO_FILTERS) {
  const problems: SourceProblem[] = [];
  const found: Record<string, string[]> = {};
  const source = new FilesSource({ paths, filters, concurrency: 2, headerCapBytes: CAP });
  for await (const work of source.studies((p) => problems.push(p), new AbortController().signal)) {
    found[work.studyInstanceUid] = (await work.load()).map((r) => r.instance.sopInstanceUid).sort();
  }
  return { found, problems, runId: source.runId };
}

describe('files source', () => {
  let ct: GeneratedStudy;
  let mr: GeneratedStudy;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'files-source-'));
    ct = await generateStudy({ series: 1, instances: 2, modalities: ['CT'], studyDate: '20230105', patientId: 'PAT-CT', parentDir: work });
    mr = await generateStudy({ series: 1, instances: 2, modalities: ['MR'], studyDate: '20240610', patientId: 'PAT-MR', parentDir: work });
    const fileset = join(work, 'fileset');
    mkdirSync(join(fileset, 'A'), { recursive: true });
    mr.files.forEach((f, i) => copyFileSync(f, join(fileset, 'A', `IM${i + 1}`)));
    const made = await run('dcmmkdir', ['--recurse', 'A'], { cwd: fileset });
    expect(made.code, made.stderr).toBe(0);
    writeFileSync(join(ct.dir, 'README'), 'hello');
  });
  afterAll(() => {
    removeStudy(ct.dir);
    removeStudy(mr.dir);
    rmSync(work, { recursive: true, force: true });
  });

  it('reads a Part 10 file into the record a C-STORE gives, marked as imported from a file', async () => {
    const { record, meta } = await readPart10Record(
      ct.files[0]!,
      { source: 'file', callingAeTitle: '', calledAeTitle: '', peerAddress: '', receivedAt: '2026-01-01T00:00:00.000Z' },
      CAP,
    );
    expect(meta.transferSyntaxUid).toMatch(/^1\.2\.840\.10008\.1\.2/);
    expect(record.study.studyInstanceUid).toBe(ct.studyInstanceUid);
    expect(record.series).toMatchObject({ seriesInstanceUid: ct.series[0]!.seriesInstanceUid, modality: 'CT' });
    expect(record.instance.sopInstanceUid).toBe(ct.series[0]!.sopInstanceUids[0]);
    expect(record.patient.patientId).toBe('PAT-CT');
    expect(record.receipt).toMatchObject({ source: 'file', receivedAt: '2026-01-01T00:00:00.000Z', transferSyntaxUid: meta.transferSyntaxUid });
  });

  it('walks folders, reads a DICOMDIR as its files (once, with its folder) and names the files that are not DICOM', async () => {
    const { found, problems } = await list([work, join(work, 'fileset', 'DICOMDIR')]);
    expect(found).toEqual({
      [ct.studyInstanceUid]: ct.series[0]!.sopInstanceUids.slice().sort(),
      [mr.studyInstanceUid]: mr.series[0]!.sopInstanceUids.slice().sort(),
    });
    expect(problems).toEqual([{ subject: join(ct.dir, 'README'), reason: 'not a DICOM Part 10 file (no DICM prefix)' }]);
    const missing = await list([join(work, 'nowhere')]);
    expect(missing.problems).toEqual([{ subject: join(work, 'nowhere'), reason: 'cannot read: ENOENT' }]);
  });

  it('applies --study, --since, --until, --modality and --patient-id', async () => {
    const only = async (filters: Partial<ImportFilters>) => Object.keys((await list([ct.dir, mr.dir], { ...NO_FILTERS, ...filters })).found);
    expect(await only({ studyInstanceUids: [mr.studyInstanceUid] })).toEqual([mr.studyInstanceUid]);
    expect(await only({ since: '20240101' })).toEqual([mr.studyInstanceUid]);
    expect(await only({ until: '20231231' })).toEqual([ct.studyInstanceUid]);
    expect(await only({ modalities: ['CT'] })).toEqual([ct.studyInstanceUid]);
    expect(await only({ patientId: 'PAT-MR' })).toEqual([mr.studyInstanceUid]);
    expect((await list([ct.dir])).runId).not.toBe((await list([ct.dir], { ...NO_FILTERS, modalities: ['CT'] })).runId);
  });
});
