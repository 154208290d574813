import { describe, expect, it } from 'vitest';
import { FhirHttpError } from '../../src/fhir-client/fhir-client.js';
import { logSafeError, outcomeIssueCodes, redactDiagnostic } from '../../src/fhir-client/log-safe.js';

const STUDY = {
  patient: { patientName: { alphabetic: 'Martin^Claire^Anne' }, patientId: '4MR1', patientBirthDate: '19560412' },
  study: { accessionNumber: 'A12345' },
};

describe('redactDiagnostic', () => {
  it("takes out the study's own values in the forms a server echoes", () => {
    const text = 'Patient Martin Claire (4MR1), born 1956-04-12 / 19560412, order A12345: MARTIN^CLAIRE^ANNE already exists';
    const out = redactDiagnostic(text, STUDY);
    for (const value of ['Martin', 'MARTIN', 'Claire', 'CLAIRE', 'Anne', '4MR1', '1956-04-12', '19560412', 'A12345']) expect(out).not.toContain(value);
    expect(out).toContain('[redacted]');
  });

  it('without the study: quoted strings, system|value, patient search values, dates and DICOM names', () => {
    expect(redactDiagnostic(`Invalid value 'DOE' for Patient.name.family`)).toBe(`Invalid value '[redacted]' for Patient.name.family`);
    expect(redactDiagnostic('Unknown element "birthDat" in “Jane”')).toBe('Unknown element "[redacted]" in “[redacted]”');
    expect(redactDiagnostic('2 Patients match identifier urn:oid:1.2.3|X99 here')).toBe('2 Patients match identifier urn:oid:1.2.3|[redacted] here');
    expect(redactDiagnostic('search Patient?identifier=MRN7&name=Doe&birthdate=1970-01-01')).toBe('search Patient?identifier=[redacted]&name=[redacted]&birthdate=[redacted]');
    expect(redactDiagnostic('born 19700101 or 1970-01-01T10:00:00+01:00')).toBe('born [date] or [date]');
    expect(redactDiagnostic('name DOE^JANE^^^ rejected')).toBe('name [redacted] rejected');
  });

  it('keeps what says where: UIDs, element paths, codes, words with apostrophes', () => {
    const text = "ImagingStudy.subject: 2 ImagingStudy resources match identifier=urn:dicom:uid|urn:oid:1.2.840.113619.2.55.3.1234 (it doesn't exist)";
    expect(redactDiagnostic(text)).toBe(text);
  });
});

describe('logSafeError', () => {
  it('gives the issue codes of a FhirHttpError and the redacted text', () => {
    const outcome = {
      resourceType: 'OperationOutcome' as const,
      issue: [{ severity: 'error', code: 'business-rule', diagnostics: "Patient '4MR1' unknown", expression: ['ImagingStudy.subject'] }],
    };
    const err = new FhirHttpError("PUT ImagingStudy → 422: Patient '4MR1' unknown", 422, outcome);
    expect(logSafeError(err, "Patient '4MR1' unknown (ImagingStudy.subject)", STUDY)).toEqual({
      error: "Patient '[redacted]' unknown (ImagingStudy.subject)",
      issues: [{ severity: 'error', code: 'business-rule', expression: ['ImagingStudy.subject'] }],
    });
    expect(outcomeIssueCodes(undefined)).toEqual([]);
    expect(logSafeError(new Error('ECONNREFUSED'), 'POST / : ECONNREFUSED')).toEqual({ error: 'POST / : ECONNREFUSED' });
  });
});
