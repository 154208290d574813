import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TAG, attributeLabel } from '../../src/dicom/tags.js';

const DICOM_SRC = join(import.meta.dirname, '../../src/dicom');

describe('tag table (PS3.6 Table 6-1, from pydicom)', () => {
  it('the committed JSON is what scripts/generate-tag-table.py generates', () => {
    expect(() => execFileSync('/usr/bin/python3', ['scripts/generate-tag-table.py', '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('holds exactly the attributes src/dicom reads', () => {
    const used = new Set<string>();
    for (const file of readdirSync(DICOM_SRC).filter((f) => f.endsWith('.ts')))
      for (const m of readFileSync(join(DICOM_SRC, file), 'utf8').matchAll(/\bTAG\.([A-Za-z0-9]+)\b/g)) used.add(m[1]!);
    expect([...used].sort()).toEqual(Object.keys(TAG).sort());
  });

  it('gives each attribute its keyword, tag in dicom-parser form, name, VR and VM', () => {
    expect(TAG.PatientID).toEqual({ keyword: 'PatientID', tag: 'x00100020', name: 'Patient ID', vr: 'LO', vm: '1' });
    expect(TAG.SeriesDescription).toMatchObject({ tag: 'x0008103e', vr: 'LO' });
    expect(TAG.ReferencedSegmentNumber).toMatchObject({ tag: 'x0062000b', vr: 'US', vm: '1-n' });
    expect(TAG.DocumentTitle.vr).toBe('ST');
    expect(Object.isFrozen(TAG) && Object.isFrozen(TAG.PatientID)).toBe(true);
  });

  it('labels an attribute the way PS3 does', () => {
    expect(attributeLabel(TAG.StudyInstanceUID)).toBe('Study Instance UID (0020,000D)');
    expect(attributeLabel(TAG.SOPClassUID)).toBe('SOP Class UID (0008,0016)');
  });
});
