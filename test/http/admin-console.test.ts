/** The admin console over HTTP: its page, its login sessions, its JSON API and the access rules, on a real SQLite store. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskSecrets } from '../../src/config/mask.js';
import { HttpAccess } from '../../src/http/access.js';
import { IngestRate, PeerActivity } from '../../src/http/admin-activity.js';
import { AdminSessions, SESSION_COOKIE } from '../../src/http/admin-session.js';
import { createHttpServer } from '../../src/http/server.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { openSqlitePipeline } from '../../src/pipeline/sqlite/index.js';
import { makeRecord, silentLogger, tempDir } from '../pipeline/helpers.js';

const TOKEN = 'console-test-token-0123456789';

/** The JSON of an answer, untyped (the test reads what it asserts). */
async function body(res: Promise<Response>): Promise<any> {
  return (await res).json();
}

interface Running {
  pipeline: Pipeline;
  http: Server;
  base: string;
  peers: PeerActivity;
  close(): Promise<void>;
}

async function start(options: { adminToken?: string }): Promise<Running> {
  const temp = await tempDir('admin-console-');
  const pipeline = openSqlitePipeline({ dataDir: temp.dir, logger: silentLogger });
  const access = new HttpAccess({ host: '127.0.0.1', ...(options.adminToken ? { adminToken: options.adminToken } : {}) });
  const sessions = new AdminSessions();
  access.useSessions(sessions);
  const peers = new PeerActivity();
  const schedule = { debounceMs: 60_000, maxDelayMs: 120_000 };
  const http = createHttpServer({
    store: pipeline.store,
    queue: pipeline.queue,
    isReady: () => true,
    logger: silentLogger,
    fhirTarget: undefined,
    schedule,
    access,
    admin: {
      store: pipeline.store,
      queue: pipeline.queue,
      schedule,
      logger: silentLogger,
      access,
      sessions,
      ingest: new IngestRate(),
      peers,
      mode: 'embedded',
      fhirTarget: 'https://***@fhir.example/R4',
      config: () => maskSecrets({ http: { adminToken: options.adminToken ?? null }, fhir: { baseUrl: 'https://u:pw@fhir.example/R4' } }),
      dicom: () => ({ aeTitles: ['FHIRBRIDGE'], allowedCallers: [], peers: [{ aeTitle: 'CT_1', host: '10.0.0.5' }], acceptsAny: false }),
      reachability: async () => ({ fhirServer: { ok: false, detail: 'GET https://***@fhir.example/R4/metadata: connection refused' } }),
    },
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    pipeline,
    http,
    base,
    peers,
    async close() {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
      await pipeline.close();
      await temp.remove();
    },
  };
}

async function seed(pipeline: Pipeline): Promise<void> {
  const a = makeRecord({ study: '1.2.3.1', sop: '1.2.3.1.1.1', series: '1.2.3.1.1', patientId: 'PAT-A', receivedAt: '2024-03-01T10:00:00.000Z' });
  a.study.accessionNumber = 'ACC-A';
  a.study.studyDate = '20240105';
  a.patient.patientName = { alphabetic: 'DOE^JANE' };
  const b = makeRecord({ study: '1.2.3.2', sop: '1.2.3.2.1.1', series: '1.2.3.2.1', patientId: 'PAT-B', receivedAt: '2024-03-01T11:00:00.000Z' });
  b.study.studyDate = '20240210';
  await pipeline.store.mergeInstances([a, b]);
  await pipeline.store.setPublishStatus('1.2.3.2', {
    state: 'failed',
    attempts: 1,
    lastError: 'HTTP 422: subject: reference is required',
    lastResource: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'ImagingStudy', id: 'x' } }, { resource: { resourceType: 'ImagingSelection', id: 'm' } }],
    },
  });
  await pipeline.store.recordPublishAttempt('1.2.3.2', { at: '2024-03-01T11:00:05.000Z', outcome: 'failed', httpStatus: 422, error: 'HTTP 422: subject: reference is required', durationMs: 40 });
}

describe('admin console with ADMIN_TOKEN', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start({ adminToken: TOKEN });
    await seed(r.pipeline);
  });
  afterAll(async () => r.close());

  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('serves its page (no patient data in it) to anyone, with no-store and a CSP that allows nothing from elsewhere', async () => {
    for (const path of ['/admin', '/admin/', '/admin/app.js', '/admin/console.css']) {
      const res = await fetch(`${r.base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
    expect((await fetch(`${r.base}/admin`)).headers.get('content-type')).toMatch(/^text\/html/);
    expect((await fetch(`${r.base}/admin/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    for (const path of ['/admin/nope.js', '/admin/%2e%2e/package.json', '/admin/../cli.js']) expect((await fetch(`${r.base}${path}`)).status, path).toBe(404);
    expect((await fetch(`${r.base}/admin`, { method: 'POST' })).status).toBe(405);
  });

  it('answers 401 (no-store) to an API request without the token or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { cookie: `${SESSION_COOKIE}=forged` }] as Record<string, string>[]) {
      const res = await fetch(`${r.base}/admin/api/studies`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).not.toContain('PAT-A');
    }
    expect((await fetch(`${r.base}/admin/api/studies/1.2.3.1/republish`, { method: 'POST' })).status).toBe(401);
  });

  it('takes Authorization: Bearer: overview, search, study, peers, config', async () => {
    const overview = await body(fetch(`${r.base}/admin/api/overview`, { headers: bearer }));
    expect(overview.studies).toEqual({ pending: 1, published: 0, failed: 1 });
    expect(overview.queue).toEqual({ instances: expect.any(Number), publishes: expect.any(Number) });
    expect(overview.ingestPerMinute).toHaveLength(60);
    expect(overview.reachability.fhirServer.ok).toBe(false);
    expect(overview.recent.map((s: { studyInstanceUid: string }) => s.studyInstanceUid)).toEqual(['1.2.3.2', '1.2.3.1']);

    const search = await body(fetch(`${r.base}/admin/api/studies?patientId=PAT-A&dateFrom=2024-01-01&dateTo=2024-01-31`, { headers: bearer }));
    expect(search).toMatchObject({ total: 1, offset: 0, limit: 25, studies: [{ studyInstanceUid: '1.2.3.1', patientName: { alphabetic: 'DOE^JANE' }, accessionNumber: 'ACC-A' }] });
    expect((await body(fetch(`${r.base}/admin/api/studies?state=failed`, { headers: bearer }))).total).toBe(1);
    expect((await body(fetch(`${r.base}/admin/api/studies?accession=ACC-A&offset=1`, { headers: bearer })))).toMatchObject({ total: 1, studies: [] });
    const bad = await fetch(`${r.base}/admin/api/studies?limit=100000`, { headers: bearer });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/limit/);
    expect((await fetch(`${r.base}/admin/api/studies?dateFrom=yesterday`, { headers: bearer })).status).toBe(400);

    const study = await body(fetch(`${r.base}/admin/api/studies/1.2.3.2`, { headers: bearer }));
    expect(study.publish).toEqual({ state: 'failed', attempts: 1, lastError: 'HTTP 422: subject: reference is required' });
    expect(study.series).toMatchObject([{ seriesInstanceUid: '1.2.3.2.1', instances: [{ sopInstanceUid: '1.2.3.2.1.1' }] }]);
    expect(study.history).toEqual([{ at: '2024-03-01T11:00:05.000Z', outcome: 'failed', httpStatus: 422, error: 'HTTP 422: subject: reference is required', durationMs: 40 }]);
    expect(study.imagingStudy).toEqual({ resourceType: 'ImagingStudy', id: 'x' });
    expect(study.manifest).toEqual({ resourceType: 'ImagingSelection', id: 'm' });
    expect((await fetch(`${r.base}/admin/api/studies/9.9.9`, { headers: bearer })).status).toBe(404);

    r.peers.accepted('CT_1', '127.0.0.1');
    r.peers.rejected('INTRUDER', '127.0.0.1', 'calling-ae-not-recognized');
    const peers = await body(fetch(`${r.base}/admin/api/peers`, { headers: bearer }));
    expect(peers.aeTitles).toEqual(['FHIRBRIDGE']);
    expect(peers.seen.map((p: { callingAeTitle: string }) => p.callingAeTitle)).toEqual(['INTRUDER', 'CT_1']);

    const config = await body(fetch(`${r.base}/admin/api/config`, { headers: bearer }));
    expect(config).toEqual({ http: { adminToken: '***' }, fhir: { baseUrl: 'https://***@fhir.example/R4' } });
    expect((await fetch(`${r.base}/admin/api/nothing`, { headers: bearer })).status).toBe(404);
    expect((await fetch(`${r.base}/admin/api/overview`, { method: 'POST', headers: bearer })).status).toBe(405);
  });

  it('logs in with the token (HttpOnly, SameSite=Strict cookie), refuses a wrong one, and logs out', async () => {
    expect((await fetch(`${r.base}/admin/api/session`, { method: 'POST', body: JSON.stringify({ token: 'nope' }), headers: { 'content-type': 'application/json' } })).status).toBe(401);
    const anonymous = await body(fetch(`${r.base}/admin/api/session`));
    expect(anonymous).toEqual({ authenticated: false, grant: null, tokenRequired: true });

    const login = await fetch(`${r.base}/admin/api/session`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }) });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=\\d+$`));
    const cookie = setCookie.split(';')[0]!;
    expect((await body(fetch(`${r.base}/admin/api/session`, { headers: { cookie } })))).toMatchObject({ authenticated: true, grant: 'session' });
    expect((await fetch(`${r.base}/admin/api/studies`, { headers: { cookie } })).status).toBe(200);

    const logout = await fetch(`${r.base}/admin/api/session`, { method: 'DELETE', headers: { cookie } });
    expect(logout.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await fetch(`${r.base}/admin/api/studies`, { headers: { cookie } })).status).toBe(401);
  });

  it('lets a session POST only from its own origin (CSRF); a bearer token needs no origin', async () => {
    const login = await fetch(`${r.base}/admin/api/session`, { method: 'POST', body: JSON.stringify({ token: TOKEN }), headers: { 'content-type': 'application/json' } });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const post = (headers: Record<string, string>) => fetch(`${r.base}/admin/api/studies/1.2.3.1/republish`, { method: 'POST', headers });
    expect((await post({ cookie })).status).toBe(401);
    expect((await post({ cookie, origin: 'https://evil.example' })).status).toBe(401);
    expect((await post({ cookie, 'sec-fetch-site': 'cross-site', origin: r.base })).status).toBe(401);
    const same = await post({ cookie, origin: r.base });
    expect(same.status).toBe(202);
    expect(await same.json()).toEqual({ studyInstanceUid: '1.2.3.1', previousState: 'pending', publishState: 'pending' });
    expect((await post({ cookie, 'sec-fetch-site': 'same-origin' })).status).toBe(202);
    expect((await post(bearer)).status).toBe(202);
    // Another site's page cannot log the browser in either.
    expect((await fetch(`${r.base}/admin/api/session`, { method: 'POST', body: JSON.stringify({ token: TOKEN }), headers: { origin: 'https://evil.example' } })).status).toBe(403);
  });

  it('republishes every failed study in one POST', async () => {
    const res = await fetch(`${r.base}/admin/api/republish-failed`, { method: 'POST', headers: bearer });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ count: 1, studyInstanceUids: ['1.2.3.2'] });
    expect((await r.pipeline.store.getSummary('1.2.3.2'))?.publish.state).toBe('pending');
  });
});

describe('admin console on loopback without a token', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start({});
    await seed(r.pipeline);
  });
  afterAll(async () => r.close());

  it('is open (loopback counts as authenticated only there) and says so', async () => {
    expect(await body(fetch(`${r.base}/admin/api/session`))).toEqual({ authenticated: true, grant: 'loopback', tokenRequired: false });
    const res = await fetch(`${r.base}/admin/api/studies?accession=ACC-A`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(((await res.json()) as { studies: Array<{ patientId: string }> }).studies[0]!.patientId).toBe('PAT-A');
  });
});

describe('AdminSessions', () => {
  it('expires a session on the server at its time, whatever the cookie says', () => {
    let now = 1_000_000;
    const sessions = new AdminSessions({ ttlMs: 60_000, now: () => now });
    const cookie = sessions.open().split(';')[0]!;
    const req = { headers: { cookie }, method: 'GET' } as never;
    expect(sessions.verify(req, 'admin')).toBe(true);
    now += 59_999;
    expect(sessions.verify(req, 'admin')).toBe(true);
    now += 1;
    expect(sessions.verify(req, 'admin')).toBe(false);
    expect(sessions.size).toBe(0);
  });

  it('keeps at most 1000 sessions, dropping the oldest', () => {
    const sessions = new AdminSessions();
    const first = sessions.open().split(';')[0]!;
    for (let i = 0; i < 1000; i++) sessions.open();
    expect(sessions.size).toBe(1000);
    expect(sessions.has({ headers: { cookie: first } } as never)).toBe(false);
  });
});

describe('IngestRate and PeerActivity', () => {
  it('counts instances per minute over the last hour, forgetting older minutes', () => {
    let now = Date.parse('2024-03-01T10:00:30.000Z');
    const rate = new IngestRate(() => now);
    rate.record();
    rate.record(2);
    now += 60_000;
    rate.record();
    let hour = rate.lastHour();
    expect(hour).toHaveLength(60);
    expect(hour.at(-1)).toEqual({ minute: '2024-03-01T10:01:00.000Z', instances: 1 });
    expect(hour.at(-2)).toEqual({ minute: '2024-03-01T10:00:00.000Z', instances: 3 });
    now += 60 * 60_000; // the same slot of the ring, an hour later
    rate.record();
    hour = rate.lastHour();
    expect(hour.reduce((n, m) => n + m.instances, 0)).toBe(1);
    expect(hour.at(-1)).toEqual({ minute: '2024-03-01T11:01:00.000Z', instances: 1 });
  });

  it('keeps per calling AE its address, last association, the day counts and rejections by reason; a new UTC day starts over', () => {
    let now = Date.parse('2024-03-01T23:59:00.000Z');
    const peers = new PeerActivity(() => now);
    peers.accepted('CT_1', '10.0.0.5');
    peers.instance('CT_1');
    peers.instance('CT_1');
    peers.rejected('CT_1', '10.0.0.6', 'congestion');
    peers.instance('UNSEEN');
    expect(peers.list()).toEqual([
      {
        callingAeTitle: 'CT_1',
        address: '10.0.0.6',
        lastAssociationAt: '2024-03-01T23:59:00.000Z',
        day: '2024-03-01',
        associationsToday: 1,
        instancesToday: 2,
        rejectedToday: 1,
        rejectionsToday: { congestion: 1 },
        lastRejection: { at: '2024-03-01T23:59:00.000Z', reason: 'congestion' },
      },
    ]);
    now += 120_000;
    expect(peers.list()[0]).toMatchObject({ day: '2024-03-02', associationsToday: 0, instancesToday: 0, rejectedToday: 0, rejectionsToday: {} });
  });
});
