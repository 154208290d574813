/**
 * The admin console in a real browser (Debian's headless chromium, driven by
 * playwright-core), against a real bridge process (dist/cli.js) that
 * receives two studies by storescu and publishes them to the test FHIR
 * server, which refuses one with 422 and an OperationOutcome. Writes the
 * screenshots of README's "Admin console" section to docs/images/.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { freePort } from '../support/free-port.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { storescu } from './helpers.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const IMAGES = resolve(import.meta.dirname, '../../docs/images');
const TOKEN = 'console-e2e-admin-token-5f1c9a';
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let fhir: TestFhirServer;
let bridge: BridgeProcess;
let browser: Browser;
let page: Page;
let good: GeneratedStudy;
let refused: GeneratedStudy;

const bearer = { authorization: `Bearer ${TOKEN}` };
async function api(path: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${bridge.httpPort}/admin/api${path}`, { headers: bearer });
  return res.json();
}
const stateOf = async (uid: string): Promise<string> => (await api(`/studies/${uid}`)).publish?.state;

beforeAll(async () => {
  fhir = await startFhirServer();
  good = await generateStudy({ series: 2, instances: 2, modalities: ['CT', 'PT'], patientId: 'CONSOLE-P1', patientName: 'CONSOLE^ALICE', accession: 'ACC-CON-1', studyDescription: 'CT chest', studyDate: '20240301' });
  refused = await generateStudy({ series: 1, instances: 3, modalities: ['MR'], patientId: 'CONSOLE-P2', patientName: 'CONSOLE^BOB', accession: 'ACC-CON-2', studyDescription: 'MR knee', studyDate: '20240302' });
  fhir.faults.rejectStudyUids = [refused.studyInstanceUid];
  fhir.faults.rejectStatus = 422;
  bridge = await startBridgeProcess({ env: { FHIR_BASE_URL: fhir.baseUrl, ADMIN_TOKEN: TOKEN, PUBLISH_DEBOUNCE_MS: '200' } });
  for (const study of [good, refused]) {
    const sent = await storescu(bridge, study.files);
    expect(sent.code, sent.stderr).toBe(0);
  }
  await eventually(async () => ((await stateOf(good.studyInstanceUid)) === 'published' && (await stateOf(refused.studyInstanceUid)) === 'failed') || undefined, 60_000, 'one study published, one failed');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  mkdirSync(IMAGES, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await bridge?.stop();
  bridge?.cleanup();
  await fhir?.close();
  for (const s of [good, refused]) if (s) await removeStudy(s.dir);
});

const base = () => `http://127.0.0.1:${bridge.httpPort}/admin`;
const rowOf = (uid: string) => page.locator(`tr[data-study="${uid}"]`);

describe('admin console in chromium', () => {
  it('asks for the token, logs in, and the overview lists both studies with their states', async () => {
    await page.goto(base());
    await page.locator('#login').waitFor();
    await page.fill('#token', 'wrong-token');
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.locator('#login .error').textContent(), { timeout: 15_000 }).toBe('Wrong token.');
    await page.fill('#token', TOKEN);
    await page.click('#login button[type=submit]');
    await rowOf(good.studyInstanceUid).waitFor();
    expect(await rowOf(good.studyInstanceUid).locator('.badge').textContent()).toBe('published');
    expect(await rowOf(refused.studyInstanceUid).locator('.badge').textContent()).toBe('failed');
    expect(await rowOf(refused.studyInstanceUid).textContent()).toContain('CONSOLE, BOB');
    expect(await page.locator('#count-published .value').textContent()).toBe('1');
    expect(await page.locator('#count-failed .value').textContent()).toBe('1');
    expect(await page.locator('#reach-fhirServer .badge').textContent()).toBe('reachable');
    // The session cookie is HttpOnly: the page's script cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'dfb_admin_session', httpOnly: true, sameSite: 'Strict', path: '/admin' });
    await page.screenshot({ path: join(IMAGES, 'admin-overview.png'), fullPage: true });
  });

  it('searches by patient ID and by state, server-side', async () => {
    await page.goto(`${base()}#/studies`);
    await page.locator('#search').waitFor();
    await page.fill('#search input[name=patientId]', 'CONSOLE-P1');
    await page.click('#search button[type=submit]');
    await expect.poll(() => page.locator('#page-info').textContent(), { timeout: 15_000 }).toBe('1–1 of 1');
    expect(await rowOf(good.studyInstanceUid).count()).toBe(1);
    await page.goto(`${base()}#/studies?state=failed`);
    await expect.poll(() => page.locator('#page-info').textContent(), { timeout: 15_000 }).toBe('1–1 of 1');
    expect(await rowOf(refused.studyInstanceUid).count()).toBe(1);
  });

  it('the failures page lists the failed study with its reason', async () => {
    await page.goto(`${base()}#/failures`);
    await page.locator('#republish-all').waitFor();
    expect(await page.locator('h1').textContent()).toBe('Failures (1)');
    const row = page.locator('tr').filter({ hasText: refused.studyInstanceUid });
    expect(await row.textContent()).toContain('injected rejection: this study is refused');
    expect(await page.locator('#republish-all').isEnabled()).toBe(true);
  });

  it("the failed study's page shows the FHIR server's reason, and Republish after the server accepts publishes it", async () => {
    await page.goto(`${base()}#/studies/${refused.studyInstanceUid}`);
    await page.locator('#last-error').waitFor();
    expect(await page.locator('#last-error').textContent()).toContain('injected rejection: this study is refused');
    expect(await page.locator('#state').textContent()).toBe('failed');
    const history = await page.locator('table').filter({ hasText: 'Outcome' }).textContent();
    expect(history).toContain('422');
    await page.screenshot({ path: join(IMAGES, 'admin-failed-study.png'), fullPage: true });

    fhir.faults.rejectStudyUids = [];
    await page.click('#republish');
    await page.locator('#republish-notice').waitFor();
    await expect.poll(() => page.locator('#state').textContent(), { timeout: 60_000, interval: 500 }).toBe('published');
    expect(await page.locator('#last-error').count()).toBe(0);
    const found = await fhir.search(`ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${refused.studyInstanceUid}`)}`);
    expect(found.entry).toHaveLength(1);
  }, 90_000);

  it('the peers page shows the calling AE of the sender', async () => {
    await page.goto(`${base()}#/peers`);
    const row = page.locator('tr[data-ae="MODALITY"]');
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe('MODALITY');
    expect(cells[1]).toBe('127.0.0.1');
    expect(Number(cells[3])).toBe(2); // one association per storescu run
    expect(Number(cells[4])).toBe(good.files.length + refused.files.length);
  });

  it('the config page masks secrets', async () => {
    await page.goto(`${base()}#/config`);
    await page.locator('#config').waitFor();
    const text = (await page.locator('#config').textContent())!;
    expect(JSON.parse(text).http.adminToken).toBe('***');
    expect(text).not.toContain(TOKEN);
    expect(JSON.parse(text).fhir.baseUrl).toBe(fhir.baseUrl);
  });

  it('a request without the token gets 401; answers are never cached', async () => {
    for (const path of ['/admin/api/overview', '/admin/api/studies', `/admin/api/studies/${good.studyInstanceUid}`]) {
      const res = await fetch(`http://127.0.0.1:${bridge.httpPort}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).not.toContain('CONSOLE');
    }
    expect((await fetch(`http://127.0.0.1:${bridge.httpPort}/admin/api/studies/${good.studyInstanceUid}/republish`, { method: 'POST' })).status).toBe(401);
  });

  it('logs nothing of the patients at info level', () => {
    for (const phi of ['CONSOLE-P1', 'CONSOLE-P2', 'CONSOLE^ALICE', 'CONSOLE^BOB', 'ACC-CON-1', 'ACC-CON-2']) expect(bridge.output()).not.toContain(phi);
  });

  it('a non-loopback bind without a token refuses to start', async () => {
    const result = await run('node', [CLI, 'start'], {
      env: { HTTP_HOST: '0.0.0.0', HTTP_PORT: String(await freePort()), DICOM_PORT: String(await freePort()), ADMIN_TOKEN: '', FHIR_ENDPOINT_BEARER_TOKEN: '', DATA_DIR: '/nonexistent/never-created' },
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ADMIN_TOKEN');
    expect(result.stdout).not.toContain('started');
  });
});
