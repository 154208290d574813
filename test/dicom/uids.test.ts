import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { STORAGE_SOP_CLASSES, TRANSFER_SYNTAXES, VERIFICATION_SOP_CLASS, isStorageSopClass } from '../../src/dicom/uids.js';

describe('UID tables (PS3.6 Table A-1)', () => {
  it('the committed JSON is what scripts/generate-uid-tables.py generates', () => {
    expect(() => execFileSync('/usr/bin/python3', ['scripts/generate-uid-tables.py', '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('describes the native syntaxes', () => {
    expect(TRANSFER_SYNTAXES.get('1.2.840.10008.1.2')).toEqual({
      uid: '1.2.840.10008.1.2',
      name: 'Implicit VR Little Endian',
      explicitVr: false,
      littleEndian: true,
      deflated: false,
      encapsulated: false,
      retired: false,
    });
    expect(TRANSFER_SYNTAXES.get('1.2.840.10008.1.2.2')).toMatchObject({ explicitVr: true, littleEndian: false, retired: true });
    expect(TRANSFER_SYNTAXES.get('1.2.840.10008.1.2.1.99')).toMatchObject({ deflated: true, encapsulated: false });
    const implicit = [...TRANSFER_SYNTAXES.values()].filter((t) => !t.explicitVr).map((t) => t.uid);
    expect(implicit.sort()).toEqual(['1.2.840.10008.1.2', '1.2.840.10008.1.20']);
  });

  it.each([
    ['1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)'],
    ['1.2.840.10008.1.2.5', 'RLE Lossless'],
    ['1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 Image Compression (Lossless Only)'],
    ['1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)'],
    ['1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000 Image Compression'],
    ['1.2.840.10008.1.2.4.110', 'JPEG XL Lossless'],
    ['1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression'],
    ['1.2.840.10008.1.2.4.112', 'JPEG XL'],
    ['1.2.840.10008.1.2.8.1', 'Deflated Image Frame Compression'],
  ])('%s %s is encapsulated explicit VR little endian', (uid, name) => {
    expect(TRANSFER_SYNTAXES.get(uid)).toEqual({ uid, name, explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, retired: false });
  });

  it('SMPTE ST 2110 syntaxes are present and not encapsulated', () => {
    for (const uid of ['1.2.840.10008.1.2.7.1', '1.2.840.10008.1.2.7.2', '1.2.840.10008.1.2.7.3']) {
      expect(TRANSFER_SYNTAXES.get(uid)).toMatchObject({ encapsulated: false, deflated: false });
    }
  });

  it.each([
    ['1.2.840.10008.5.1.4.1.1.2', 'CT Image Storage', false],
    ['1.2.840.10008.5.1.4.1.1.1.1.1', 'Digital X-Ray Image Storage - For Processing', false],
    ['1.2.840.10008.5.1.4.1.1.88.59', 'Key Object Selection Document Storage', false],
    ['1.2.840.10008.5.1.4.1.1.6', 'Ultrasound Image Storage', true],
    ['1.2.840.10008.5.1.4.1.1.88.1', 'Text SR Storage - Trial', true],
    ['1.2.840.10008.5.1.4.1.1.6.3', 'Photoacoustic Image Storage', false],
    ['1.2.840.10008.5.1.4.1.1.66.8', 'Height Map Segmentation Storage', false],
    ['1.2.840.10008.5.1.4.1.1.77.1.8', 'Confocal Microscopy Image Storage', false],
    ['1.2.840.10008.5.1.4.1.1.201.1', 'Inventory Storage', false],
    ['1.2.840.10008.5.1.4.1.1.77.1.5.8', 'Ophthalmic Optical Coherence Tomography B-scan Volume Analysis Storage', false],
    ['1.2.840.10008.5.1.4.1.1.77.1.7', 'Dermoscopic Photography Image Storage', false],
    ['1.2.840.10008.5.1.4.1.1.200.2', 'CT Performed Procedure Protocol Storage', false],
  ])('%s is the Storage SOP class %s', (uid, name, retired) => {
    expect(STORAGE_SOP_CLASSES.get(uid)).toEqual({ uid, name, retired });
    expect(isStorageSopClass(uid)).toBe(true);
  });

  it.each([
    [VERIFICATION_SOP_CLASS],
    ['1.2.840.10008.1.20.1'],
    ['1.2.840.10008.1.3.10'],
    ['1.2.840.10008.5.1.4.1.2.2.1'],
    ['1.2.840.10008.5.1.4.1.1.201.2'],
  ])('%s is not a Storage SOP class', (uid) => {
    expect(isStorageSopClass(uid)).toBe(false);
  });

  it('Verification is 1.2.840.10008.1.1', () => {
    expect(VERIFICATION_SOP_CLASS).toBe('1.2.840.10008.1.1');
  });
});
