import { describe, expect, it } from 'vitest';
import { isUid, uidSyntaxProblem, UID_MAX_LENGTH } from '../../src/dicom/uid-syntax.js';

describe('UID syntax (PS3.5 Section 9.1)', () => {
  it.each([
    ['1.2.840.10008.1.2.1', 'a DICOM transfer syntax'],
    ['1.2.826.0.1.3680043.8.498.12345678901234567890', 'a component "0" in the middle'],
    ['0', 'a single component "0"'],
    ['0.0', 'two "0" components'],
    ['2.25.329800735698586629295641978511506172918', 'a UUID-derived UID (PS3.5 B.2)'],
    ['12345', 'one component'],
    ['1.' + '2'.repeat(UID_MAX_LENGTH - 2), 'exactly 64 characters'],
  ])('%s is a UID (%s)', (value) => {
    expect(uidSyntaxProblem(value)).toBeUndefined();
    expect(isUid(value)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['../../../etc/passwd', 'empty component'],
    ['1.2.3 4', 'not digits and dots'],
    ['1.2.3\u00014', 'not digits and dots'],
    ['1.2.3\n', 'not digits and dots'],
    ['1.2.3\u00004', 'not digits and dots'],
    ['1.2.3\\1.2.4', 'not digits and dots'],
    ['1.2.3a', 'not digits and dots'],
    ['1.2.-3', 'not digits and dots'],
    ['1.2.\u0663', 'not digits and dots'],
    ['1'.repeat(80), 'over 64 characters'],
    ['1.' + '2'.repeat(UID_MAX_LENGTH - 1), 'over 64 characters'],
    ['.1.2.3', 'empty component'],
    ['1.2.3.', 'empty component'],
    ['1..2', 'empty component'],
    ['.', 'empty component'],
    ['1.02.3', 'leading zero in a component'],
    ['01.2', 'leading zero in a component'],
    ['1.2.00', 'leading zero in a component'],
  ])('%j is not a UID: %s', (value, problem) => {
    expect(uidSyntaxProblem(value)).toBe(problem);
    expect(isUid(value)).toBe(false);
  });
});
