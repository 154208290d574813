import { describe, expect, test } from 'vitest';
import { entryUrn, manifestUid, retrieveLocationUidOf, uuidOid } from '../../../src/fhir/mado/manifest-uid.js';

describe('manifest UID (2.25 from a name-based UUID)', () => {
  test.each(['1.2.3', '1.2.826.0.1.3680043.8.498.77', '9'.repeat(64)])('study %s: a valid UID under 2.25, stable', (study) => {
    const uid = manifestUid(study);
    expect(uid).toMatch(/^2\.25\.(0|[1-9]\d*)$/);
    expect(uid.length).toBeLessThanOrEqual(64);
    expect(manifestUid(study)).toBe(uid);
    expect(manifestUid(` ${study} `)).toBe(uid);
  });

  test('the number is a version 5 UUID (RFC 9562): version nibble 5, variant 10', () => {
    const hex = BigInt(manifestUid('1.2.3').slice(5)).toString(16).padStart(32, '0');
    expect(hex[12]).toBe('5');
    expect(['8', '9', 'a', 'b']).toContain(hex[16]);
  });

  test('different studies, different manifests; the Retrieve Location UID is another name', () => {
    expect(manifestUid('1.2.3')).not.toBe(manifestUid('1.2.4'));
    expect(retrieveLocationUidOf('https://pacs/dicom-web/')).toBe(retrieveLocationUidOf('https://pacs/dicom-web'));
    expect(retrieveLocationUidOf('https://pacs/dicom-web')).not.toBe(uuidOid('https://pacs/dicom-web'));
    expect(entryUrn('2.25.1', 'patient')).not.toBe(entryUrn('2.25.1', 'composition'));
  });
});
