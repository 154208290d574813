/**
 * What a client cannot make the built-in endpoint do (issue 21 item 9):
 * searches beyond SEARCH_LIMITS answer 400 too-costly naming the limit (they
 * answered 500 "internal error" from SQLite's compound SELECT limit before),
 * malformed percent-encoding in a path answers 400 (a URIError, 500, before),
 * and _offset/_count are bounded. Over real HTTP; each answer a valid R4
 * OperationOutcome; nothing logged at error.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { patientId } from '../../src/fhir/resource-ids.js';
import { SEARCH_LIMITS } from '../../src/fhir-endpoint/search-parameters.js';
import { validateR4 } from '../support/fhir-validate.js';
import { entryIds, ids, P1, P2, serve, uid, type Served } from './data-set.js';

const lines: any[] = [];
let s: Served;
beforeAll(async () => {
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((l: string) => JSON.parse(l)));
      cb();
    },
  });
  s = await serve('R4', { logger: pino({ level: 'info' }, stream) });
});
afterAll(async () => {
  await s.close();
  // The endpoint answered every request itself: no "FHIR request failed" (index failure) line.
  expect(lines.filter((l) => l.level >= 50)).toEqual([]);
});

const q = encodeURIComponent;
const list = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i)).join(',');

async function refused(path: string, limit: RegExp): Promise<void> {
  const r = await s.get(path);
  expect(r.status, path.slice(0, 80)).toBe(400);
  expect(r.body.resourceType).toBe('OperationOutcome');
  expect(r.body.issue[0].code).toBe('too-costly');
  expect(r.body.issue[0].diagnostics).toMatch(limit);
  expect(validateR4(r.body)).toEqual([]);
}

describe('search limits', () => {
  test(`more than ${SEARCH_LIMITS.orValues} OR-ed values of one parameter: 400 too-costly naming the limit`, async () => {
    await refused(`/fhir/ImagingStudy?modality=${list(600, () => 'CT')}`, /'modality' has 600 OR-ed values: at most 100 per parameter/);
    await refused(`/fhir/ImagingStudy?_id=${list(SEARCH_LIMITS.orValues + 1, (i) => `x${i}`)}`, /at most 100 per parameter/);
  });

  test(`more than ${SEARCH_LIMITS.andParameters} AND-ed parameters: 400 too-costly`, async () => {
    await refused(`/fhir/ImagingStudy?${Array(600).fill('modality=CT').join('&')}`, /more than 10 AND-ed search parameters/);
    await refused(`/fhir/ImagingStudy?${Array(SEARCH_LIMITS.andParameters + 1).fill('status=available').join('&')}`, /at most 10 in one search/);
  });

  test(`more than ${SEARCH_LIMITS.chainedValues} values of a chained parameter: 400 too-costly`, async () => {
    await refused(`/fhir/ImagingStudy?patient.identifier=${list(260, (i) => q(`a|b${i}`))}`, /'patient.identifier' has 260 values: at most 20 for a chained parameter/);
    await refused(`/fhir/ImagingStudy?subject:identifier=${list(SEARCH_LIMITS.chainedValues + 1, (i) => `v${i}`)}`, /at most 20 for a chained parameter/);
  });

  test('a search at every limit at once answers, with the right studies', async () => {
    const filler = (n: number) => list(n, (i) => `NOPE${i}`);
    const params = [
      `modality=${filler(SEARCH_LIMITS.orValues - 1)},CT`,
      `patient.identifier=${list(SEARCH_LIMITS.chainedValues - 1, (i) => q(`urn:none|${i}`))},${q(`${P1.system}|${P1.value}`)}`,
      `patient:identifier=${list(SEARCH_LIMITS.chainedValues - 1, (i) => `x${i}`)},${q(`${P1.system}|${P1.value}`)}`,
      ...Array.from({ length: SEARCH_LIMITS.andParameters - 3 }, () => `_id=${filler(SEARCH_LIMITS.orValues - 2)},${uid(1)},${uid(3)}`),
    ];
    const r = await s.get(`/fhir/ImagingStudy?${params.join('&')}`);
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    expect(entryIds(r.body)).toEqual(ids(1, 3));
  });

  test('values that are empty do not count; a parameter given empty is no parameter', async () => {
    const r = await s.get(`/fhir/ImagingStudy?${Array(40).fill('modality=').join('&')}&modality=${',,'.repeat(300)}MR`);
    expect(r.status).toBe(200);
    expect(entryIds(r.body)).toEqual(ids(2, 6));
  });

  test('_offset and _count: at most 15 digits', async () => {
    for (const query of ['_offset=99999999999999999999999', '_count=1e400', '_offset=1234567890123456']) {
      const r = await s.get(`/fhir/ImagingStudy?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.issue[0]).toMatchObject({ code: 'invalid', diagnostics: expect.stringMatching(/at most 15 digits/) });
    }
    const far = await s.get('/fhir/ImagingStudy?_offset=999999999999999');
    expect(far.status).toBe(200);
    expect(far.body.total).toBe(8);
    expect(far.body.entry).toBeUndefined();
  });
});

describe('paths', () => {
  test('malformed percent-encoding in the path: 400 invalid, not 500', async () => {
    for (const path of ['/fhir/ImagingStudy/%zz', '/fhir/%zz', '/fhir/ImagingStudy/%', '/fhir/Patient/%C0%AF', '/fhir/%ED%A0%80/x']) {
      const r = await s.get(path);
      expect(r.status, path).toBe(400);
      expect(r.body.issue[0]).toMatchObject({ code: 'invalid', diagnostics: 'a path segment is not valid percent-encoding (UTF-8)' });
      expect(validateR4(r.body)).toEqual([]);
    }
    // Valid encodings still read.
    expect((await s.get(`/fhir/Patient/${q(patientId(P2))}`)).status).toBe(200);
    expect((await s.get(`/fhir/%49magingStudy/${uid(4)}`)).body.id).toBe(uid(4));
  });
});
