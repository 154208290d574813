import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/config/loopback.js';
import { AccessConfigurationError, HttpAccess, type AccessScope } from '../../src/http/access.js';

const ADMIN = 'admin-token-0123456789';
const FHIR = 'fhir-token-0123456789';

function req(authorization?: string, cookie?: string): IncomingMessage {
  return { headers: { ...(authorization !== undefined ? { authorization } : {}), ...(cookie !== undefined ? { cookie } : {}) } } as IncomingMessage;
}

const grant = (access: HttpAccess, r: IncomingMessage, scope: AccessScope) => {
  const d = access.authorize(r, scope);
  return d.allowed ? d.grant : d.status;
};

describe('isLoopbackHost', () => {
  it('is 127.0.0.0/8, ::1 (also IPv4-mapped, bracketed) and localhost; nothing else', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.0.2.2', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', 'bridge.example.org', 'localhost.example.org', '']) expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('HttpAccess', () => {
  it('without a token: open on loopback, refused elsewhere', () => {
    const open = new HttpAccess({ host: '127.0.0.1' });
    expect(open.tokenRequired).toBe(false);
    expect(grant(open, req(), 'admin')).toBe('loopback');
    expect(grant(open, req('Bearer anything'), 'fhir')).toBe('loopback');
    expect(() => new HttpAccess({ host: '0.0.0.0' })).toThrow(AccessConfigurationError);
    expect(() => new HttpAccess({ host: '0.0.0.0' })).toThrow(/ADMIN_TOKEN/);
  });

  it('with ADMIN_TOKEN: both scopes need it, loopback included', () => {
    const access = new HttpAccess({ host: '127.0.0.1', adminToken: ADMIN });
    for (const scope of ['admin', 'fhir'] as const) {
      expect(grant(access, req(), scope)).toBe(401);
      expect(grant(access, req(`Bearer ${ADMIN}`), scope)).toBe('admin-token');
      expect(grant(access, req(`bearer   ${ADMIN}  `), scope)).toBe('admin-token');
      for (const wrong of [`Bearer ${ADMIN}x`, `Bearer ${ADMIN.slice(0, -1)}`, `Basic ${ADMIN}`, ADMIN, `Bearer ${ADMIN} extra`, 'Bearer ']) {
        expect(grant(access, req(wrong), scope), wrong).toBe(401);
      }
    }
    const refused = access.authorize(req(), 'admin');
    expect(refused).toMatchObject({ allowed: false, status: 401, headers: { 'www-authenticate': 'Bearer realm="dicom-fhir-bridge"' } });
  });

  it('FHIR_ENDPOINT_BEARER_TOKEN: /fhir only beside ADMIN_TOKEN; alone, it stands in for it', () => {
    const both = new HttpAccess({ host: '0.0.0.0', adminToken: ADMIN, fhirToken: FHIR });
    expect(grant(both, req(`Bearer ${FHIR}`), 'fhir')).toBe('fhir-token');
    expect(grant(both, req(`Bearer ${FHIR}`), 'admin')).toBe(401);
    expect(grant(both, req(`Bearer ${ADMIN}`), 'fhir')).toBe('admin-token');
    const alone = new HttpAccess({ host: '0.0.0.0', fhirToken: FHIR });
    expect(alone.tokenRequired).toBe(true);
    expect(grant(alone, req(`Bearer ${FHIR}`), 'admin')).toBe('fhir-token');
    expect(grant(alone, req(`Bearer ${FHIR}`), 'fhir')).toBe('fhir-token');
    expect(grant(alone, req(), 'admin')).toBe(401);
  });

  it('takes a session verifier (the admin console login) that grants like a token', () => {
    const access = new HttpAccess({ host: '0.0.0.0', adminToken: ADMIN });
    expect(grant(access, req(undefined, 'dfb_session=ok'), 'admin')).toBe(401);
    const seen: AccessScope[] = [];
    access.useSessions({
      verify: (r, scope) => {
        seen.push(scope);
        return r.headers.cookie === 'dfb_session=ok';
      },
    });
    expect(grant(access, req(undefined, 'dfb_session=ok'), 'admin')).toBe('session');
    expect(grant(access, req(undefined, 'dfb_session=forged'), 'fhir')).toBe(401);
    expect(grant(access, req(`Bearer ${ADMIN}`, 'dfb_session=forged'), 'admin')).toBe('admin-token');
    expect(seen).toEqual(['admin', 'fhir']);
  });
});
