// StorageHealth (src/pipeline/sqlite/storage-health.ts): failing until writes have worked for settleMs after the last fault.
import { afterEach, describe, expect, it } from 'vitest';
import { StorageHealth } from '../../src/pipeline/sqlite/storage-health.js';
import { silentLogger } from './helpers.js';

const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('StorageHealth', () => {
  let health: StorageHealth | undefined;
  afterEach(() => health?.close());

  it('stays failing while faults and successes alternate, and is ok once writes worked settleMs after the last fault', () => {
    let now = 1_000_000;
    health = new StorageHealth({ logger: silentLogger, probe: async () => {}, probeDelayMs: () => 60_000, settleMs: 5_000, now: () => now });
    expect(health.condition()).toEqual({ state: 'ok' });

    expect(health.failed(full(), 'could not commit instance records')).toBe(true);
    expect(health.condition()).toMatchObject({ state: 'failing', reason: expect.stringMatching(/^SQLITE_FULL/) });
    now += 1_000;
    expect(health.succeeded()).toBe(false); // a write that fit: not yet
    expect(health.condition().state).toBe('failing');
    now += 3_000;
    health.failed(full(), 'instance batch failed'); // and one that did not
    now += 4_000;
    expect(health.succeeded()).toBe(false);
    expect(health.condition().state).toBe('failing');
    now += 1_001;
    expect(health.succeeded()).toBe(true);
    expect(health.condition()).toEqual({ state: 'ok' });
  });

  it('an error that is no storage fault changes nothing', () => {
    health = new StorageHealth({ logger: silentLogger, probe: async () => {} });
    expect(health.failed(new Error('constraint'), 'merge')).toBe(false);
    expect(health.condition()).toEqual({ state: 'ok' });
  });

  it('clears by its probe once the faults have settled, with nothing else writing', async () => {
    let probes = 0;
    health = new StorageHealth({ logger: silentLogger, probe: async () => void probes++, probeDelayMs: () => 10, settleMs: 200 });
    health.failed(full(), 'could not commit instance records');
    await new Promise((r) => setTimeout(r, 100));
    expect(health.condition().state).toBe('failing'); // probes succeed, but the fault is recent
    await new Promise((r) => setTimeout(r, 400));
    expect(health.condition()).toEqual({ state: 'ok' });
    expect(probes).toBeGreaterThanOrEqual(2);
  });
});
