import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CStoreResult } from '../../src/dimse/association.js';
import { freePort } from '../support/free-port.js';
import { startProcess, type StartedProcess } from '../support/processes.js';
import { run } from '../support/run.js';
import { PYDICOM_TEST_FILES, startScp, type TestScp } from './helpers.js';

/**
 * Top-level (0020,000D), (0020,000E), (0008,0018) as dcmdump prints them, or
 * undefined when absent. `+P` also prints matches nested in sequences (e.g.
 * liver_1frame.dcm has a Series Instance UID in a functional group), so the
 * full dump is read and only unindented lines count. `+uc` reads an element
 * encoded UN (rtdose_rle.dcm) with the VR of its tag, as the bridge does.
 */
async function uidsOf(file: string): Promise<{ study?: string; series?: string; sop?: string }> {
  const r = await run('dcmdump', ['-q', '+L', '+uc', file]);
  const value = (tag: string): string | undefined => new RegExp(`^\\(${tag}\\) UI \\[([^\\]]*)\\]`, 'm').exec(r.stdout)?.[1];
  return { study: value('0020,000d'), series: value('0020,000e'), sop: value('0008,0018') };
}

describe('dcmsend of every pydicom test file', () => {
  let t: TestScp;
  const files = readdirSync(PYDICOM_TEST_FILES, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
  beforeAll(async () => {
    t = await startScp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('stores each file dcmsend reports as sent with the UIDs dcmdump reads', { timeout: 300_000 }, async () => {
    let sent = 0;
    for (const name of files) {
      const file = join(PYDICOM_TEST_FILES, name);
      const before = t.records.length;
      const r = await run('dcmsend', ['-v', '-aet', 'SCU', '-aec', 'BRIDGE', '-nh', '-dn', '127.0.0.1', String(t.port), file]);
      const out = r.stdout + r.stderr;
      const ok = /Received C-STORE Response \(Success\)|with status SUCCESS/i.test(out) && r.code === 0;
      if (!ok) continue;
      sent++;
      expect(t.records.length, name).toBe(before + 1);
      const record = t.records.at(-1)!;
      const uids = await uidsOf(file);
      expect(record.study.studyInstanceUid, name).toBe(uids.study);
      expect(record.series.seriesInstanceUid, name).toBe(uids.series);
      expect(record.instance.sopInstanceUid, name).toBe(uids.sop);
    }
    expect(sent).toBeGreaterThan(20);
  });
});

/** The DIMSE status dcmsend's report gives a file (`0x0000`), or undefined when it sent nothing. */
async function sendAndReport(file: string, aet: string, port: number, reportDir: string): Promise<string | undefined> {
  const report = join(reportDir, `${aet}-${basename(file)}.txt`);
  await run('dcmsend', ['-aec', aet, '-nh', '-dn', '--create-report-file', report, '127.0.0.1', String(port), file]);
  let text: string;
  try {
    text = readFileSync(report, 'latin1');
  } catch {
    return undefined;
  }
  return /^DIMSE Status\s*:\s*(0x[0-9a-f]{4})/im.exec(text)?.[1]?.toLowerCase();
}

/** C-STORE statuses of success and warning (PS3.4 Annex B): the instance was taken. */
const taken = (status: string | undefined) => status !== undefined && (status === '0x0000' || status.startsWith('0xb'));

describe("dcmsend of every pydicom test file: the bridge takes what DCMTK's storescp +xa takes", () => {
  let bridge: TestScp;
  let storescp: StartedProcess;
  let storescpPort: number;
  let dir: string;
  const refusals: CStoreResult[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcmsend-compare-'));
    mkdirSync(join(dir, 'storescp'));
    bridge = await startScp();
    bridge.scp.on('cStore', (result: CStoreResult) => refusals.push(result));
    storescpPort = await freePort();
    // +xa: every transfer syntax DCMTK knows (storescp takes every storage SOP class it knows); +B writes the
    // data set as received: without it storescp answers C000 to a data set it cannot re-encode into a file.
    storescp = await startProcess('storescp', ['+xa', '+B', '-aet', 'STORESCP', '-od', join(dir, 'storescp'), String(storescpPort)]);
    const deadline = Date.now() + 20_000;
    while ((await run('echoscu', ['-aec', 'STORESCP', '127.0.0.1', String(storescpPort)])).code !== 0) {
      if (Date.now() > deadline) throw new Error(`storescp not answering\n${storescp.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await bridge?.stop();
    await storescp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every file storescp +xa takes, the bridge takes, unless it lacks a UID the bridge needs to place it', { timeout: 600_000 }, async () => {
    const files = readdirSync(PYDICOM_TEST_FILES, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(PYDICOM_TEST_FILES, d.name));
    const differences: string[] = [];
    let compared = 0;
    for (const file of files) {
      const byStorescp = await sendAndReport(file, 'STORESCP', storescpPort, dir);
      if (!taken(byStorescp)) continue;
      compared++;
      const before = refusals.length;
      const byBridge = await sendAndReport(file, 'BRIDGE', bridge.port, dir);
      if (taken(byBridge)) continue;
      const comment = refusals.slice(before).at(-1)?.errorComment ?? '';
      // The bridge cannot place an instance without its Study, Series or SOP Instance UID (storescp files anything).
      const uids = await uidsOf(file);
      const lacks =
        (comment === 'missing Study Instance UID (0020,000D)' && uids.study === undefined) ||
        (comment === 'missing Series Instance UID (0020,000E)' && uids.series === undefined) ||
        (comment === 'missing SOP Instance UID (0008,0018)' && uids.sop === undefined);
      if (!lacks) differences.push(`${basename(file)}: storescp ${byStorescp}, bridge ${byBridge ?? 'nothing sent'} ${comment}`);
    }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(40);
  });
});
