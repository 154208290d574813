/**
 * The DICOMweb source against a real Orthanc (orthanc-dicomweb): the record
 * of an instance read over WADO-RS /metadata is the one its file gives;
 * filters go to QIDO-RS; bad answers get a one-line reason.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { DicomwebSource } from '../../src/import/dicomweb-source.js';
import { readPart10Record } from '../../src/import/part10.js';
import type { ImportFilters } from '../../src/import/source.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { importCli } from './cli.js';

const NO_FILTERS: ImportFilters = { studyInstanceUids: [], modalities: [] };
const CAP = 16 * 1024 * 1024;
const signal = new AbortController().signal;

async function studiesOf(source: DicomwebSource): Promise<Map<string, InstanceRecord[]>> {
  const out = new Map<string, InstanceRecord[]>();
  for await (const work of source.studies(() => undefined, signal)) out.set(work.studyInstanceUid, await work.load());
  return out;
}

describe('DICOMweb source (Orthanc)', () => {
  let orthanc: TestOrthanc;
  let ct: GeneratedStudy;
  let mr: GeneratedStudy;
  let secrets: string;

  beforeAll(async () => {
    secrets = mkdtempSync(join(tmpdir(), 'dicomweb-secrets-'));
    ct = await generateStudy({ series: 2, instances: 2, modalities: ['CT', 'PT'], studyDate: '20230105', accession: 'A-CT', bodyPart: 'CHEST' });
    mr = await generateStudy({ series: 1, instances: 3, modalities: ['MR'], studyDate: '20240610', patientId: 'PAT-MR' });
    orthanc = await startOrthanc({ config: { AuthenticationEnabled: true, RegisteredUsers: { reader: 's3cret' } } });
    const auth = `Basic ${Buffer.from('reader:s3cret').toString('base64')}`;
    for (const file of [...ct.files, ...mr.files]) {
      const res = await fetch(`${orthanc.httpUrl}/instances`, { method: 'POST', body: readFileSync(file), headers: { authorization: auth } });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await orthanc?.stop();
    removeStudy(ct.dir);
    removeStudy(mr.dir);
    rmSync(secrets, { recursive: true, force: true });
  });

  const source = (filters: Partial<ImportFilters> = {}, authorization: string | null = `Basic ${Buffer.from('reader:s3cret').toString('base64')}`, baseUrl?: string) =>
    new DicomwebSource({ baseUrl: baseUrl ?? orthanc.dicomWebUrl, filters: { ...NO_FILTERS, ...filters }, headerCapBytes: CAP, ...(authorization ? { authorization } : {}), pageSize: 1 });

  it('gives, for every instance, the record its file gives (pages of QIDO-RS followed)', async () => {
    const found = await studiesOf(source());
    expect([...found.keys()].sort()).toEqual([ct.studyInstanceUid, mr.studyInstanceUid].sort());
    for (const study of [ct, mr]) {
      const records = found.get(study.studyInstanceUid)!;
      expect(records).toHaveLength(study.files.length);
      for (const file of study.files) {
        const { record: fromFile } = await readPart10Record(file, { source: 'file', callingAeTitle: '', calledAeTitle: '', peerAddress: '', receivedAt: '' }, CAP);
        const fromWeb = records.find((r) => r.instance.sopInstanceUid === fromFile.instance.sopInstanceUid)!;
        expect(fromWeb.receipt.source).toBe('dicomweb');
        expect({ patient: fromWeb.patient, study: fromWeb.study, series: fromWeb.series, instance: fromWeb.instance }).toEqual({
          patient: fromFile.patient,
          study: fromFile.study,
          series: fromFile.series,
          instance: fromFile.instance,
        });
      }
    }
  });

  it('sends the filters as QIDO-RS keys', async () => {
    const uids = async (filters: Partial<ImportFilters>) => [...(await studiesOf(source(filters))).keys()];
    expect(await uids({ modalities: ['PT'] })).toEqual([ct.studyInstanceUid]);
    expect(await uids({ since: '20240101' })).toEqual([mr.studyInstanceUid]);
    expect(await uids({ until: '20231231' })).toEqual([ct.studyInstanceUid]);
    expect(await uids({ patientId: 'PAT-MR' })).toEqual([mr.studyInstanceUid]);
    expect(await uids({ studyInstanceUids: [mr.studyInstanceUid] })).toEqual([mr.studyInstanceUid]);
  });

  it('says why in one line: 401, a server that is no DICOMweb, an unreachable server', async () => {
    await expect(studiesOf(source({}, null))).rejects.toThrow('GET /studies: HTTP 401 (credentials missing or refused');
    await expect(studiesOf(source({}, null, orthanc.httpUrl.replace(/:\d+$/, ':1')))).rejects.toThrow(/^cannot reach http:\/\/127\.0\.0\.1:1/);
    // Orthanc's own REST API is no DICOMweb: its answer is named with the status.
    await expect(studiesOf(source({}, `Basic ${Buffer.from('reader:s3cret').toString('base64')}`, orthanc.httpUrl))).rejects.toThrow(/^GET \/studies: HTTP 400 /);
  });

  it('the command takes basic credentials from a file, and a dry run counts from QIDO-RS alone', async () => {
    const file = join(secrets, 'basic');
    writeFileSync(file, 'reader:s3cret\n');
    const dry = await importCli(['dicomweb', '--dry-run', '--basic-auth-file', file, orthanc.dicomWebUrl], { DATA_DIR: join(secrets, 'data') });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run: 2 studies, 7 instances would be imported');
    const refused = await importCli(['dicomweb', '--dry-run', orthanc.dicomWebUrl], { DATA_DIR: join(secrets, 'data') });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('HTTP 401');
    const usage = await importCli(['dicomweb', '--since', '2024', orthanc.dicomWebUrl], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--since 2024: give a date as YYYYMMDD');
  });
});
