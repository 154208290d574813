import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/run.js';
import { CT_SMALL, MR_SMALL, startScp, type TestScp } from './helpers.js';

/** (0020,000D), (0020,000E), (0008,0018) of a file, read with dcmdump. */
async function uidsOf(file: string): Promise<{ study: string; series: string; sop: string }> {
  const r = await run('dcmdump', ['+P', '0020,000d', '+P', '0020,000e', '+P', '0008,0018', file]);
  const value = (tag: string): string => {
    const m = new RegExp(`\\(${tag}\\) UI \\[([^\\]]*)\\]`).exec(r.stdout);
    if (!m) throw new Error(`no ${tag} in ${file}`);
    return m[1]!;
  };
  return { study: value('0020,000d'), series: value('0020,000e'), sop: value('0008,0018') };
}

/** The DIMSE statuses storescu -d printed for the responses it received. */
function statuses(out: string): number[] {
  return [...out.matchAll(/DIMSE Status\s+: 0x([0-9a-f]{4})/g)].map((m) => parseInt(m[1]!, 16));
}

const storescu = (port: number, ...args: string[]) => run('storescu', ['-d', '-aet', 'SCU', '-aec', 'BRIDGE', '127.0.0.1', String(port), ...args]);

describe('C-STORE with storescu', () => {
  let t: TestScp;
  const cStores: Array<{ status: number; bytes: number; sopClassUid: string }> = [];
  const closed: Array<{ instances: number; bytes: number; endedBy: string }> = [];
  beforeAll(async () => {
    t = await startScp();
    t.scp.on('cStore', (e) => cStores.push(e));
    t.scp.on('associationClosed', (e) => closed.push(e));
  });
  afterAll(async () => {
    await t.stop();
  });

  it('stores CT and MR instances and hands their records to the handler', async () => {
    const r = await storescu(t.port, CT_SMALL, MR_SMALL);
    expect(r.code).toBe(0);
    expect(statuses(r.stdout + r.stderr)).toEqual([0, 0]);
    expect(t.records).toHaveLength(2);
    for (const [file, record] of [[CT_SMALL, t.records[0]!], [MR_SMALL, t.records[1]!]] as const) {
      const uids = await uidsOf(file);
      expect(record.study.studyInstanceUid).toBe(uids.study);
      expect(record.series.seriesInstanceUid).toBe(uids.series);
      expect(record.instance.sopInstanceUid).toBe(uids.sop);
      expect(record.receipt.callingAeTitle).toBe('SCU');
      expect(record.receipt.calledAeTitle).toBe('BRIDGE');
      expect(record.receipt.peerAddress).toBe('127.0.0.1');
    }
    await expect.poll(() => closed.length).toBe(1);
    expect(closed[0]).toMatchObject({ instances: 2, endedBy: 'release' });
    expect(cStores.map((c) => c.status)).toEqual([0, 0]);
  });
});

describe('C-STORE handler outcomes', () => {
  let rejecting: TestScp;
  let warning: TestScp;
  beforeAll(async () => {
    rejecting = await startScp({ onStore: async () => { throw new Error('queue down'); } });
    warning = await startScp({ onStore: async () => ({ status: 0xb000, errorComment: 'coerced' }) });
  });
  afterAll(async () => {
    await rejecting.stop();
    await warning.stop();
  });

  it('answers A700 when the handler rejects', async () => {
    const r = await storescu(rejecting.port, CT_SMALL);
    expect(statuses(r.stdout + r.stderr)).toEqual([0xa700]);
    expect(r.stdout + r.stderr).toMatch(/\(0000,0902\) LO \[Not stored: queue down\]/);
  });

  it('answers the handler status B000 as a warning', async () => {
    const r = await storescu(warning.port, CT_SMALL);
    expect(statuses(r.stdout + r.stderr)).toEqual([0xb000]);
    expect(r.stdout + r.stderr).toMatch(/\(0000,0902\) LO \[coerced\]/);
  });
});

describe('parallel associations', () => {
  let t: TestScp;
  beforeAll(async () => {
    t = await startScp({ maxAssociations: 4 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('serves 4 storescu associations at once', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => storescu(t.port, CT_SMALL, MR_SMALL)));
    for (const r of results) {
      expect(r.code).toBe(0);
      expect(statuses(r.stdout + r.stderr)).toEqual([0, 0]);
    }
    expect(t.records).toHaveLength(8);
  });
});

describe('data set errors', () => {
  let capped: TestScp;
  beforeAll(async () => {
    capped = await startScp({ headerCapBytes: 256 });
  });
  afterAll(async () => {
    await capped.stop();
  });

  it('answers the DatasetError status, not success, when the header exceeds the cap', async () => {
    // storescu halts after the first unsuccessful store: one file.
    const r = await storescu(capped.port, CT_SMALL);
    const out = r.stdout + r.stderr;
    const got = statuses(out);
    expect(got).toHaveLength(1);
    for (const status of got) expect(status === 0xa700 || (status & 0xf000) === 0xc000).toBe(true);
    expect(out).toMatch(/\(0000,0902\) LO \[[^\]]+\]/);
    expect(capped.records).toHaveLength(0);
  });
});
