import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { generateStudy, removeStudy, type GeneratedStudy } from './generate-study.js';
import { run } from './run.js';

async function dump(file: string): Promise<string> {
  const r = await run('dcmdump', ['-M', '+P', '0002,0010', '+P', '0008,0016', '+P', '0008,0018', '+P', '0008,0060', '+P', '0020,000d',
    '+P', '0020,000e', '+P', '0020,0011', '+P', '0020,0013', '+P', '0010,0010', '+P', '0010,0020', '+P', '0008,0050',
    '+P', '0018,0015', '+P', '0028,0010', '+P', '0008,0020', '+P', '0008,103e', file]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('generateStudy', () => {
  const made: GeneratedStudy[] = [];
  afterEach(async () => {
    for (const s of made.splice(0)) await removeStudy(s.dir);
  });

  it('writes Part 10 files with matching SOP classes, UIDs and patient attributes', async () => {
    const study = await generateStudy({
      series: 3, instances: 2, modalities: ['CT', 'PT'], patientId: 'P-42', patientName: 'Doe^Jane', accession: 'A-7',
    });
    made.push(study);
    expect(study.files).toHaveLength(6);
    expect(study.series.map((s) => s.modality)).toEqual(['CT', 'PT', 'CT']);
    expect(new Set(study.series.map((s) => s.seriesInstanceUid)).size).toBe(3);
    expect(study.series.every((s) => s.sopInstanceUids.length === 2)).toBe(true);
    expect(study.studyInstanceUid).toMatch(/^[0-9.]+$/);

    const pet = await dump(study.files[3] as string); // series 2, instance 2
    expect(pet).toContain('LittleEndianExplicit');
    expect(pet).toContain('=PositronEmissionTomographyImageStorage');
    expect(pet).toContain(`[${study.studyInstanceUid}]`);
    expect(pet).toContain(`[${study.series[1]?.seriesInstanceUid}]`);
    expect(pet).toContain(`[${study.series[1]?.sopInstanceUids[1]}]`);
    expect(pet).toMatch(/\(0020,0011\) IS \[2\]/);
    expect(pet).toMatch(/\(0020,0013\) IS \[2\]/);
    expect(pet).toContain('[Doe^Jane]');
    expect(pet).toContain('[P-42]');
    expect(pet).toContain('[A-7]');
    expect(pet).toContain('[CHEST]');
    expect(pet).toContain('[PT series 2]');
    expect(pet).toMatch(/\(0028,0010\) US 64/);
    const ct = await dump(study.files[0] as string);
    expect(ct).toContain('=CTImageStorage');
    expect(ct).toContain('[20240301]');
    expect((await readFile(study.files[0] as string)).subarray(128, 132).toString('latin1')).toBe('DICM');
  });

  it('is deterministic with a seed and uses a given Study Instance UID', async () => {
    const a = await generateStudy({ seed: 5, instances: 2 });
    const b = await generateStudy({ seed: 5, instances: 2 });
    const c = await generateStudy({ instances: 2, studyInstanceUid: '1.2.3.4.5' });
    made.push(a, b, c);
    expect(b.studyInstanceUid).toBe(a.studyInstanceUid);
    expect(b.series).toEqual(a.series);
    expect(c.studyInstanceUid).toBe('1.2.3.4.5');
    expect(c.series[0]?.sopInstanceUids[0]).not.toBe(a.series[0]?.sopInstanceUids[0]);
  });

  it('makes CT-sized files of about half a megabyte and removes them', async () => {
    const study = await generateStudy({ size: 'ct', instances: 4, modalities: ['MR'] });
    const size = (await stat(study.files[0] as string)).size;
    expect(size).toBeGreaterThan(512 * 512 * 2);
    expect(size).toBeLessThan(512 * 512 * 2 + 4096);
    expect(study.bytes).toBeGreaterThan(4 * 512 * 512 * 2);
    expect(await dump(study.files[0] as string)).toContain('=MRImageStorage');
    await removeStudy(study.dir);
    expect(existsSync(study.dir)).toBe(false);
  });

  it('fails loudly for an unknown modality', async () => {
    await expect(generateStudy({ modalities: ['XX'] })).rejects.toThrow(/unknown modality XX/);
  });
});
