import { describe, expect, test } from 'vitest';
import {
  dtToFhirDateTime,
  parseDA,
  parseTM,
  toFhirDate,
  toFhirDateTime,
  zoneOffsetForWallTime,
} from '../../src/fhir/datetime.js';

type Case = [name: string, da: string | undefined, tm: string | undefined, tzOffset: string | undefined, zone: string, expected: string | undefined, dropped?: Array<[string, string]>];

const cases: Case[] = [
  ['offset from (0008,0201) wins over the zone', '20240705', '143015', '+0900', 'Europe/Paris', '2024-07-05T14:30:15+09:00'],
  ['negative (0008,0201)', '20240105', '0800', '-0330', 'Europe/Paris', '2024-01-05T08:00:00-03:30'],
  ['(0008,0201) +0000 is +00:00, not Z', '20240105', '0800', '+0000', 'America/New_York', '2024-01-05T08:00:00+00:00'],
  ['Europe/Paris summer (CEST)', '20240705', '101500', undefined, 'Europe/Paris', '2024-07-05T10:15:00+02:00'],
  ['Europe/Paris winter (CET)', '20240105', '101500', undefined, 'Europe/Paris', '2024-01-05T10:15:00+01:00'],
  ['America/New_York winter (EST)', '20240105', '090000', undefined, 'America/New_York', '2024-01-05T09:00:00-05:00'],
  ['America/New_York summer (EDT)', '20240705', '090000', undefined, 'America/New_York', '2024-07-05T09:00:00-04:00'],
  ['Asia/Kolkata half-hour offset', '20240705', '0900', undefined, 'Asia/Kolkata', '2024-07-05T09:00:00+05:30'],
  ['DST gap Paris 02:30 → offset before the transition', '20240331', '023000', undefined, 'Europe/Paris', '2024-03-31T02:30:00+01:00'],
  ['DST gap New York 02:30', '20240310', '0230', undefined, 'America/New_York', '2024-03-10T02:30:00-05:00'],
  ['DST overlap Paris 02:30 → earlier instant (summer offset)', '20241027', '023000', undefined, 'Europe/Paris', '2024-10-27T02:30:00+02:00'],
  ['DST overlap New York 01:30 → earlier instant (EDT)', '20241103', '0130', undefined, 'America/New_York', '2024-11-03T01:30:00-04:00'],
  ['just after the Paris gap', '20240331', '030000', undefined, 'Europe/Paris', '2024-03-31T03:00:00+02:00'],
  ['date only stays a date', '20240305', undefined, '+0100', 'Europe/Paris', '2024-03-05'],
  ['partial TM HH → HH:00:00', '20240305', '14', undefined, 'UTC', '2024-03-05T14:00:00+00:00'],
  ['partial TM HHMM → HH:MM:00', '20240305', '1405', undefined, 'UTC', '2024-03-05T14:05:00+00:00'],
  ['fraction of 1 digit kept', '20240305', '140501.5', undefined, 'UTC', '2024-03-05T14:05:01.5+00:00'],
  ['fraction of 6 digits kept', '20240305', '140501.123456', undefined, 'UTC', '2024-03-05T14:05:01.123456+00:00'],
  ['ACR-NEMA TM HH:MM:SS tolerated', '20240305', '14:05:01', undefined, 'UTC', '2024-03-05T14:05:01+00:00'],
  ['ACR-NEMA DA YYYY.MM.DD tolerated', '2024.03.05', undefined, undefined, 'UTC', '2024-03-05'],
  ['leap day', '20240229', undefined, undefined, 'UTC', '2024-02-29'],
  ['leap second', '20161231', '235960', '+0000', 'UTC', '2016-12-31T23:59:60+00:00'],
  ['malformed DA dropped (and its time)', '2024-03-05', '1200', undefined, 'UTC', undefined, [['DA', '2024-03-05'], ['TM without DA', '1200']]],
  ['impossible date dropped', '20230229', undefined, undefined, 'UTC', undefined, [['DA', '20230229']]],
  ['month 13 dropped', '20241301', undefined, undefined, 'UTC', undefined, [['DA', '20241301']]],
  ['malformed TM dropped, date kept', '20240305', '2561', undefined, 'UTC', '2024-03-05', [['TM', '2561']]],
  ['7 fraction digits is malformed', '20240305', '120000.1234567', undefined, 'UTC', '2024-03-05', [['TM', '120000.1234567']]],
  ['odd-length TM malformed', '20240305', '123', undefined, 'UTC', '2024-03-05', [['TM', '123']]],
  ['time without date dropped', undefined, '120000', undefined, 'UTC', undefined, [['TM without DA', '120000']]],
  ['malformed (0008,0201) falls back to the zone', '20240705', '1200', '+2500', 'Europe/Paris', '2024-07-05T12:00:00+02:00', [['TimezoneOffsetFromUTC', '+2500']]],
  ['(0008,0201) without sign falls back', '20240105', '1200', '0100', 'America/New_York', '2024-01-05T12:00:00-05:00', [['TimezoneOffsetFromUTC', '0100']]],
  ['unknown zone: time dropped, date kept, never UTC', '20240705', '1200', undefined, 'Mars/Olympus', '2024-07-05', [['timezone', 'Mars/Olympus']]],
  ['empty strings are absent, not malformed', '', '', undefined, 'UTC', undefined],
  ['partial DA YYYY stays YYYY', '2024', undefined, undefined, 'UTC', '2024'],
  ['partial DA YYYYMM stays YYYY-MM', '202403', undefined, undefined, 'UTC', '2024-03'],
  ['partial DA with a time: the time is dropped', '202403', '1200', undefined, 'UTC', '2024-03', [['TM with a partial DA', '1200']]],
  ['partial DA month 00 is malformed', '202400', undefined, undefined, 'UTC', undefined, [['DA', '202400']]],
];

describe('DA + TM → FHIR date/dateTime', () => {
  test.each(cases)('%s', (_name, da, tm, tzOffset, zone, expected, dropped = []) => {
    const seen: Array<[string, string]> = [];
    const ctx = { timezone: zone, onDropped: (w: string, v: string) => seen.push([w, v]), ...(tzOffset ? { timezoneOffsetFromUtc: tzOffset } : {}) };
    expect(toFhirDateTime(da, tm, ctx)).toBe(expected);
    expect(seen).toEqual(dropped);
  });

  test('every dateTime with a time carries an explicit offset, never Z', () => {
    for (const [, da, tm, tzOffset, zone, expected] of cases) {
      if (expected && expected.includes('T')) expect(expected).toMatch(/[+-]\d{2}:\d{2}$/);
      void da; void tm; void tzOffset; void zone;
    }
  });
});

describe('parsers', () => {
  test.each([
    ['20240305', { year: 2024, month: 3, day: 5 }],
    ['19000101', { year: 1900, month: 1, day: 1 }],
    ['2024035', undefined],
    ['abcdefgh', undefined],
    ['20240300', undefined],
  ])('parseDA(%j)', (value, expected) => {
    expect(parseDA(value)).toEqual(expected);
  });

  test.each([
    ['07', { hour: 7, minute: 0, second: 0, fraction: '' }],
    ['0705', { hour: 7, minute: 5, second: 0, fraction: '' }],
    ['070509.01', { hour: 7, minute: 5, second: 9, fraction: '01' }],
    ['24', undefined],
    ['0760', undefined],
    ['0705.1', undefined],
  ])('parseTM(%j)', (value, expected) => {
    expect(parseTM(value)).toEqual(expected);
  });

  test('birthDate: DA → date, partial YYYY / YYYYMM kept, malformed dropped and reported', () => {
    const seen: string[] = [];
    const sink = (w: string, v: string) => seen.push(`${w}=${v}`);
    expect(toFhirDate('19700131')).toBe('1970-01-31');
    expect(toFhirDate('1970', sink, 'PatientBirthDate')).toBe('1970');
    expect(toFhirDate('197001', sink, 'PatientBirthDate')).toBe('1970-01');
    expect(toFhirDate('19700', sink, 'PatientBirthDate')).toBeUndefined();
    expect(seen).toEqual(['PatientBirthDate=19700']);
  });

  test('zone offset for a wall time is DST-correct', () => {
    const t = { hour: 12, minute: 0, second: 0, fraction: '' };
    expect(zoneOffsetForWallTime('Europe/Paris', { year: 2024, month: 7, day: 1 }, t)).toBe(120);
    expect(zoneOffsetForWallTime('Europe/Paris', { year: 2024, month: 12, day: 1 }, t)).toBe(60);
    expect(zoneOffsetForWallTime('Australia/Sydney', { year: 2024, month: 7, day: 1 }, t)).toBe(600);
    expect(zoneOffsetForWallTime('Australia/Sydney', { year: 2024, month: 12, day: 1 }, t)).toBe(660);
    expect(zoneOffsetForWallTime('Nope/Nowhere', { year: 2024, month: 12, day: 1 }, t)).toBeUndefined();
  });
});

describe('DT → FHIR', () => {
  const ctx = { timezone: 'Europe/Paris' };
  test.each([
    ['2024', '2024'],
    ['202403', '2024-03'],
    ['20240305', '2024-03-05'],
    ['2024030514', '2024-03-05T14:00:00+01:00'],
    ['20240305143000.5', '2024-03-05T14:30:00.5+01:00'],
    ['20240705143000-0400', '2024-07-05T14:30:00-04:00'],
    ['20240705143000', '2024-07-05T14:30:00+02:00'],
    ['2024130514', undefined],
    ['20240305143000+9999', undefined],
    ['2024-03-05', undefined],
  ])('dtToFhirDateTime(%j) = %j', (value, expected) => {
    expect(dtToFhirDateTime(value, ctx)).toBe(expected);
  });
});
