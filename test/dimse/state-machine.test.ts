import { describe, expect, it } from 'vitest';
import { ACTION_FUNCTIONS, type Indication, type UpperLayerPort } from '../../src/dimse/actions.js';
import { ACTIONS, EVENTS, STATES, TRANSITIONS, actionFor, undefinedBecause, type Event, type State } from '../../src/dimse/state-machine.js';
import type { Pdu } from '../../src/dimse/pdu.js';

const states = Object.keys(STATES) as State[];
const events = Object.keys(EVENTS) as Event[];

function fakePort(isRequestor = false) {
  const log: string[] = [];
  const sent: Pdu[] = [];
  const indications: Indication[] = [];
  const port: UpperLayerPort = {
    isRequestor,
    connectTransport: () => log.push('connect'),
    sendPdu: (p) => { sent.push(p); log.push(`send ${p.type}`); },
    closeTransport: () => log.push('close'),
    startArtim: () => log.push('artim start'),
    stopArtim: () => log.push('artim stop'),
    indicate: (i) => { indications.push(i); log.push(i.kind); },
    providerRejection: (rq) => (rq.protocolVersion === 1 ? undefined : { type: 'A-ASSOCIATE-RJ', result: 1, source: 2, reason: 2 }),
  };
  return { port, log, sent, indications };
}

describe('PS3.8 state transition table (Table 9-10)', () => {
  it('has every action of Tables 9-6 to 9-9 implemented by a function of the same name', () => {
    expect(Object.keys(ACTION_FUNCTIONS).sort()).toEqual(Object.keys(ACTIONS).sort());
  });

  it('gives each of the 13 × 19 cells an action or a documented reason for being blank', () => {
    for (const s of states)
      for (const e of events) {
        const action = actionFor(s, e);
        if (action === undefined) expect(undefinedBecause(s, e), `${s} ${e}`).toMatch(/\w/);
        else expect(undefinedBecause(s, e)).toBeUndefined();
      }
  });

  it('uses every action at least once', () => {
    const used = new Set(events.flatMap((e) => Object.values(TRANSITIONS[e])));
    expect([...used].sort()).toEqual(Object.keys(ACTIONS).sort());
  });

  it('matches the standard on the cells the acceptor lives by', () => {
    expect(actionFor('Sta1', 'Evt5')).toBe('AE-5');
    expect(actionFor('Sta2', 'Evt6')).toBe('AE-6');
    expect(actionFor('Sta3', 'Evt7')).toBe('AE-7');
    expect(actionFor('Sta3', 'Evt8')).toBe('AE-8');
    expect(actionFor('Sta6', 'Evt10')).toBe('DT-2');
    expect(actionFor('Sta6', 'Evt12')).toBe('AR-2');
    expect(actionFor('Sta8', 'Evt14')).toBe('AR-4');
    expect(actionFor('Sta13', 'Evt17')).toBe('AR-5');
    expect(actionFor('Sta2', 'Evt10')).toBe('AA-1');
    expect(actionFor('Sta6', 'Evt19')).toBe('AA-8');
    expect(actionFor('Sta6', 'Evt16')).toBe('AA-3');
    expect(actionFor('Sta2', 'Evt18')).toBe('AA-2');
    expect(actionFor('Sta7', 'Evt12')).toBe('AR-8');
  });
});

describe('actions (PS3.8 Tables 9-6 to 9-9)', () => {
  const rq = (protocolVersion: number): Pdu => ({
    type: 'A-ASSOCIATE-RQ', protocolVersion, calledAeTitle: 'A', callingAeTitle: 'B', applicationContextName: '1.2',
    presentationContexts: [], userInformation: { roleSelections: [], sopClassExtended: [], sopClassCommonExtended: [], unknown: [] },
  });

  it('AE-6 passes an acceptable RQ to the user and rejects a bad protocol version itself', () => {
    const ok = fakePort();
    expect(ACTION_FUNCTIONS['AE-6'](ok.port, { pdu: rq(1) }, 'Evt6')).toBe('Sta3');
    expect(ok.log).toEqual(['artim stop', 'A-ASSOCIATE indication']);
    const bad = fakePort();
    expect(ACTION_FUNCTIONS['AE-6'](bad.port, { pdu: rq(2) }, 'Evt6')).toBe('Sta13');
    expect(bad.log).toEqual(['artim stop', 'send A-ASSOCIATE-RJ', 'artim start']);
  });

  it('AA-1 sends a service-provider A-ABORT for an unexpected PDU in Sta2, a service-user one for Evt15', () => {
    const a = fakePort();
    expect(ACTION_FUNCTIONS['AA-1'](a.port, {}, 'Evt10')).toBe('Sta13');
    expect(a.sent).toEqual([{ type: 'A-ABORT', source: 2, reason: 2 }]);
    const b = fakePort();
    ACTION_FUNCTIONS['AA-1'](b.port, {}, 'Evt15');
    expect(b.sent).toEqual([{ type: 'A-ABORT', source: 0, reason: 0 }]);
  });

  it('AA-8 sends A-ABORT with the reason, indicates A-P-ABORT and starts ARTIM', () => {
    const a = fakePort();
    expect(ACTION_FUNCTIONS['AA-8'](a.port, { abortReason: 6 }, 'Evt19')).toBe('Sta13');
    expect(a.log).toEqual(['send A-ABORT', 'A-P-ABORT indication', 'artim start']);
    expect(a.sent).toEqual([{ type: 'A-ABORT', source: 2, reason: 6 }]);
  });

  it('AR-8 goes to Sta10 for the acceptor and Sta9 for the requestor', () => {
    expect(ACTION_FUNCTIONS['AR-8'](fakePort(false).port, {}, 'Evt12')).toBe('Sta10');
    expect(ACTION_FUNCTIONS['AR-8'](fakePort(true).port, {}, 'Evt12')).toBe('Sta9');
  });

  it('AR-4 sends A-RELEASE-RP and starts ARTIM; AA-3 closes on a received A-ABORT', () => {
    const a = fakePort();
    expect(ACTION_FUNCTIONS['AR-4'](a.port, {}, 'Evt14')).toBe('Sta13');
    expect(a.log).toEqual(['send A-RELEASE-RP', 'artim start']);
    const b = fakePort();
    expect(ACTION_FUNCTIONS['AA-3'](b.port, { pdu: { type: 'A-ABORT', source: 0, reason: 0 } }, 'Evt16')).toBe('Sta1');
    expect(b.log).toEqual(['A-ABORT indication', 'close']);
  });

  it('each action returns a state its PS3.8 description allows', () => {
    for (const [name, fn] of Object.entries(ACTION_FUNCTIONS)) {
      const { port } = fakePort();
      const data = { pdu: name === 'AE-6' ? rq(1) : pduFor(name) };
      const next = fn(port, data, 'Evt15');
      expect(ACTIONS[name as keyof typeof ACTIONS].next.split('|'), name).toContain(next);
    }
  });
});

function pduFor(action: string): Pdu | undefined {
  switch (action) {
    case 'AE-2': return { type: 'A-ASSOCIATE-RQ', protocolVersion: 1, calledAeTitle: '', callingAeTitle: '', applicationContextName: '', presentationContexts: [], userInformation: { roleSelections: [], sopClassExtended: [], sopClassCommonExtended: [], unknown: [] } };
    case 'AE-3':
    case 'AE-7': return { type: 'A-ASSOCIATE-AC', protocolVersion: 1, calledAeTitle: '', callingAeTitle: '', applicationContextName: '', presentationContexts: [], userInformation: { roleSelections: [], sopClassExtended: [], sopClassCommonExtended: [], unknown: [] } };
    case 'AE-4':
    case 'AE-8': return { type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 1 };
    case 'DT-1':
    case 'AR-7': return { type: 'P-DATA-TF', pdvs: [] };
    case 'AA-3': return { type: 'A-ABORT', source: 0, reason: 0 };
    default: return undefined;
  }
}
