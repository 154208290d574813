/**
 * The logger's second line of defence (redacted paths, FHIR errors without
 * the server's text) at every level up to info, and its output format.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FhirHttpError } from '../src/fhir-client/fhir-client.js';
import { createLogger } from '../src/logger.js';

function capture(): { stream: Writable; lines: () => Array<Record<string, any>>; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

const PHI = { name: 'CANARY^LOGGER', id: 'PIDLOG42', birth: '19020304', accession: 'ACCLOG9' };

describe('createLogger', () => {
  it('redacts patient fields and FHIR content at fatal, error, warn and info', () => {
    const out = capture();
    const logger = createLogger('info', out.stream);
    const outcome = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error', code: 'invalid', diagnostics: `Patient ${PHI.id} born ${PHI.birth}` }] };
    const err = new FhirHttpError(`PUT ImagingStudy → 422: Patient ${PHI.id} born ${PHI.birth}`, 422, outcome);
    for (const level of ['fatal', 'error', 'warn', 'info'] as const) {
      logger[level](
        {
          patientName: PHI.name,
          patientId: PHI.id,
          record: { patient: { patientName: PHI.name }, study: { accessionNumber: PHI.accession } },
          lastError: `Patient ${PHI.id}`,
          lastResource: { subject: { identifier: { value: PHI.id } } },
          resource: { birthDate: PHI.birth },
          outcome,
          err,
        },
        'a line',
      );
    }
    logger.debug({ patientId: 'DEBUG-ONLY' }, 'not at info');
    const text = out.text();
    for (const value of Object.values(PHI)) expect(text).not.toContain(value);
    expect(text).not.toContain('DEBUG-ONLY');
    const lines = out.lines();
    expect(lines.map((l) => l.level)).toEqual([60, 50, 40, 30]);
    expect(lines[0]!.err).toEqual({ type: 'FhirHttpError', message: 'PUT ImagingStudy → 422 (server text not logged)', status: 422, issues: ['error/invalid'] });
    expect(lines[0]!.patientId).toBe('[redacted]');
  });

  it('keeps other errors whole', () => {
    const out = capture();
    createLogger('info', out.stream).warn({ err: new Error('ECONNREFUSED 127.0.0.1:9') }, 'x');
    expect(out.lines()[0]!.err).toMatchObject({ type: 'Error', message: 'ECONNREFUSED 127.0.0.1:9' });
    expect(out.lines()[0]!.err.stack).toMatch(/^Error: ECONNREFUSED/);
  });

  it('pretty on a terminal (auto) or when asked, JSON otherwise; JSON with a warning when pino-pretty is missing', () => {
    const made: Array<Record<string, unknown>> = [];
    const out = capture();
    const loadPretty = () => (options: Record<string, unknown>) => {
      made.push(options);
      return out.stream;
    };
    createLogger('info', undefined, { format: 'auto', isTTY: true, loadPretty }).info('on a terminal');
    createLogger('info', undefined, { format: 'pretty', isTTY: false, loadPretty }).info('asked');
    expect(made).toHaveLength(2);
    expect(made[0]).toMatchObject({ colorize: true, sync: true });
    expect(made[1]).toMatchObject({ colorize: false });
    createLogger('info', undefined, { format: 'auto', isTTY: false, loadPretty });
    createLogger('info', undefined, { format: 'json', isTTY: true, loadPretty });
    expect(made).toHaveLength(2);
    // The pretty loader was not asked for JSON; a missing package falls back to JSON and says so.
    const fallback = createLogger('info', undefined, { format: 'pretty', isTTY: true, loadPretty: () => undefined });
    expect(typeof fallback.info).toBe('function');
  });
});
