/** Which UIDs a C-STORE is stored and answered under (issue 19 item 9): the command, the context and the data set in, the identity out. */
import { describe, expect, it } from 'vitest';
import { commandSopClassFits, isNoUid, storeIdentity } from '../../src/dimse/command-uids.js';

const RTDOSE = '1.2.840.10008.5.1.4.1.1.481.2';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const SOP = '1.9.999.999.99.9.9999.9999.20030818153516';

describe('isNoUid', () => {
  it.each([
    ['31', true], // dcmsend's value for a UID encoded UN
    ['1.02.3', true],
    ['1..2', true],
    ['', true],
    [`1.${'2'.repeat(63)}`, true],
    [RTDOSE, false],
    ['2.25.329800735698586629295641978511506172918', false],
    ['0', false],
  ])('%j: %s', (value, expected) => expect(isNoUid(value)).toBe(expected));
  it('an absent UID is missing, not malformed', () => expect(isNoUid(undefined)).toBe(false));
});

describe('storeIdentity', () => {
  const cases: Array<[string, { affectedSopClassUid?: string; affectedSopInstanceUid?: string }, string, string, unknown]> = [
    ['command UIDs: as before', { affectedSopClassUid: RTDOSE, affectedSopInstanceUid: SOP }, RTDOSE, RTDOSE, { sopClassUid: RTDOSE, sopInstanceUid: SOP, fromDataSet: false }],
    ['command instance differs: C000', { affectedSopClassUid: RTDOSE, affectedSopInstanceUid: '1.2.3' }, RTDOSE, RTDOSE, { status: 0xc000 }],
    ['"31" / "31" (dcmsend, UN-encoded UIDs): the data set\'s', { affectedSopClassUid: '31', affectedSopInstanceUid: '31' }, RTDOSE, RTDOSE, { sopClassUid: RTDOSE, sopInstanceUid: SOP, fromDataSet: true }],
    ['"31" and a data set of another SOP Class than the context: 0122', { affectedSopClassUid: '31', affectedSopInstanceUid: '31' }, RTDOSE, CT, { status: 0x0122 }],
    ['"31" class and a UID instance that differs: C000', { affectedSopClassUid: '31', affectedSopInstanceUid: '1.2.3' }, RTDOSE, RTDOSE, { status: 0xc000 }],
    ['"31" class and the same instance UID: the data set\'s', { affectedSopClassUid: '31', affectedSopInstanceUid: SOP }, RTDOSE, RTDOSE, { sopClassUid: RTDOSE, sopInstanceUid: SOP, fromDataSet: true }],
    ['no command instance UID: C000 as before', { affectedSopClassUid: RTDOSE }, RTDOSE, RTDOSE, { status: 0xc000 }],
  ];
  it.each(cases)('%s', (_name, command, context, dataSetClass, expected) => {
    expect(storeIdentity(command, context, { sopClassUid: dataSetClass, sopInstanceUid: SOP })).toMatchObject(expected as object);
  });

  it('commandSopClassFits: the context\'s, or no UID (checked against the data set later)', () => {
    expect(commandSopClassFits(RTDOSE, RTDOSE)).toBe(true);
    expect(commandSopClassFits('31', RTDOSE)).toBe(true);
    expect(commandSopClassFits(CT, RTDOSE)).toBe(false);
    expect(commandSopClassFits(undefined, RTDOSE)).toBe(false);
  });
});
