import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/fhir-client/retry-policy.js';
import { capabilitiesFrom, fhirRelease } from '../../src/fhir-client/server-capabilities.js';
import { isRetryablePublishError, PublishRejectedError } from '../../src/publish/publisher.js';
import { FhirHttpError, FhirNetworkError } from '../../src/fhir-client/fhir-client.js';
import { TokenError } from '../../src/fhir-client/auth/index.js';

describe('backoffDelayMs', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 300_000 };
  it('doubles from the base delay, jittered within ±20 %, capped at maxDelayMs', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(a, policy, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(3200);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(4800);
    expect(backoffDelayMs(20, policy, () => 1)).toBe(300_000);
    expect(backoffDelayMs(1000, policy, () => 0)).toBe(240_000);
  });
});

describe('server capabilities', () => {
  it('maps fhirVersion to the release', () => {
    expect(['4.0.1', '4.0.0', '4.3.0', '5.0.0', '3.0.2', '1.4.0', undefined].map(fhirRelease)).toEqual(['R4', 'R4', 'R4', 'R5', 'STU3', undefined, undefined]);
  });
  it('reads conditional update and create per resource type', () => {
    const caps = capabilitiesFrom({
      resourceType: 'CapabilityStatement',
      fhirVersion: '4.0.1',
      rest: [{ mode: 'server', resource: [{ type: 'ImagingStudy', conditionalUpdate: true }, { type: 'Patient', conditionalCreate: true }] }],
    });
    expect(caps.fhirVersion).toBe('4.0.1');
    expect(caps.conditionalUpdate('ImagingStudy')).toBe(true);
    expect(caps.conditionalUpdate('Patient')).toBe(false);
    expect(caps.conditionalCreate('Patient')).toBe(true);
    expect(caps.conditionalCreate('Endpoint')).toBe(false);
  });
});

describe('which publish errors leave a study pending', () => {
  it('network, 408, 429, 5xx, 401, 412 and token errors retry; other 4xx and rejections fail', () => {
    const http = (s: number) => new FhirHttpError('x', s);
    expect([new FhirNetworkError('x', false), http(408), http(429), http(500), http(503), http(401), http(412), new TokenError('x')].map(isRetryablePublishError)).toEqual(
      Array(8).fill(true),
    );
    expect([http(400), http(403), http(404), http(422), new PublishRejectedError('2 Patients')].map(isRetryablePublishError)).toEqual(Array(5).fill(false));
  });
});
