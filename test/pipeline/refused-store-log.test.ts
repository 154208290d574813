import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { isRefusal, RefusedStoreLog } from '../../src/pipeline/refused-store-log.js';
import { manualClock } from './helpers.js';

function setup() {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk, _e, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const clock = manualClock();
  const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const log = new RefusedStoreLog({
    logger: pino({ level: 'info' }, stream),
    keyOf: (ae) => (ae === 'CT01' || ae === 'MR02' ? ae : 'other'),
    now: clock.now,
    schedule: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return () => (t.cancelled = true);
    },
  });
  const refuse = (callingAeTitle: string, status = 0xc000, n = 1) => {
    for (let i = 0; i < n; i++) {
      log.record({ status, bytes: 10, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: `1.2.3.${i}`, callingAeTitle, errorComment: 'Missing Study Instance UID' });
    }
  };
  return { lines, clock, timers, log, refuse };
}

describe('RefusedStoreLog', () => {
  it('takes failures only: success and warnings are not refusals', () => {
    for (const s of [0x0000, 0xb000, 0xb006, 0xb007, 0x0001, 0x0107, 0x0116]) expect(isRefusal(s), s.toString(16)).toBe(false);
    for (const s of [0xa700, 0xa900, 0xc000, 0xc123, 0x0122, 0x0110, 0x0211]) expect(isRefusal(s), s.toString(16)).toBe(true);
    const { lines, log } = setup();
    log.record({ status: 0, bytes: 1, sopClassUid: '1.2', callingAeTitle: 'CT01' });
    log.record({ status: 0xb006, bytes: 1, sopClassUid: '1.2', callingAeTitle: 'CT01' });
    expect(lines).toEqual([]);
  });

  it('one warn line per refusal with status, reason, calling AE and UIDs', () => {
    const { lines, refuse } = setup();
    refuse('CT01', 0xa700);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      msg: 'C-STORE refused',
      status: 'A700',
      reason: 'Missing Study Instance UID',
      callingAeTitle: 'CT01',
      sopInstanceUid: '1.2.3.0',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    });
  });

  it('10 lines per sender per minute, then one line with the count when the window ends', () => {
    const { lines, timers, refuse, clock } = setup();
    refuse('CT01', 0xc000, 12);
    refuse('CT01', 0xa700, 3);
    refuse('MR02', 0xc000, 2); // another sender has its own budget
    expect(lines.filter((l) => l.msg === 'C-STORE refused').map((l) => l.callingAeTitle)).toEqual([...Array(10).fill('CT01'), 'MR02', 'MR02']);
    expect(timers).toHaveLength(1);
    expect(timers[0]!.ms).toBe(60_000);
    clock.advance(60_000);
    timers[0]!.fn();
    expect(lines.at(-1)).toMatchObject({ level: 40, sender: 'CT01', callingAeTitles: ['CT01'], suppressed: 5, byStatus: { C000: 2, A700: 3 }, windowMs: 60_000 });
    refuse('CT01', 0xc000, 1); // a new window: logged again
    expect(lines.at(-1)).toMatchObject({ msg: 'C-STORE refused', callingAeTitle: 'CT01' });
  });

  it('unknown senders share one bounded budget; close tells what was held back', () => {
    const { lines, log, refuse, timers } = setup();
    for (let i = 0; i < 30; i++) refuse(`AE${i}`);
    expect(lines).toHaveLength(10);
    log.close();
    expect(timers[0]!.cancelled).toBe(true);
    expect(lines.at(-1)).toMatchObject({ sender: 'other', suppressed: 20, byStatus: { C000: 20 } });
    expect(lines.at(-1)!.callingAeTitles).toHaveLength(10);
  });

  it('a refusal after the window without the timer firing starts a new window', () => {
    const { lines, refuse, clock } = setup();
    refuse('CT01', 0xc000, 11);
    clock.advance(61_000);
    refuse('CT01', 0xc000, 1);
    expect(lines.slice(-2).map((l) => l.msg)).toEqual(['more C-STOREs refused (rate limit: not logged one by one)', 'C-STORE refused']);
    expect(lines.at(-2)).toMatchObject({ suppressed: 1 });
  });
});
