import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/run.js';
import { PYDICOM_TEST_FILES, startScp, type TestScp } from './helpers.js';

/**
 * Top-level (0020,000D), (0020,000E), (0008,0018) as dcmdump prints them, or
 * undefined when absent. `+P` also prints matches nested in sequences (e.g.
 * liver_1frame.dcm has a Series Instance UID in a functional group), so the
 * full dump is read and only unindented lines count.
 */
async function uidsOf(file: string): Promise<{ study?: string; series?: string; sop?: string }> {
  const r = await run('dcmdump', ['-q', '+L', file]);
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
