import { describe, expect, it } from 'vitest';
import { ACTION_FUNCTIONS, type Indication, type UpperLayerPort } from '../../src/dimse/actions.js';
import { ACTIONS, EVENTS, STATES, TRANSITION_TABLE, actionFor, transitionFor, undefinedBecause, type Cell, type Event, type State } from '../../src/dimse/state-machine.js';
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
    const used = new Set(Object.values(TRANSITION_TABLE).map((t) => t.action));
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

/**
 * The non-blank cells of PS3.8 Table 9-10, row by row: for each event, the
 * states whose column has an entry. Written from the standard, apart from
 * the table under test.
 */
const NON_BLANK_IN_PS38: Readonly<Record<Event, string>> = {
  Evt1: 'Sta1',
  Evt2: 'Sta4',
  Evt3: 'Sta2 Sta3 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
  Evt4: 'Sta2 Sta3 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
  Evt5: 'Sta1',
  Evt6: 'Sta2 Sta3 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
  Evt7: 'Sta3',
  Evt8: 'Sta3',
  Evt9: 'Sta6 Sta8',
  Evt10: 'Sta2 Sta3 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
  Evt11: 'Sta6',
  Evt12: 'Sta2 Sta3 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
  Evt13: 'Sta2 Sta3 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
  Evt14: 'Sta8 Sta9 Sta12',
  Evt15: 'Sta3 Sta4 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12',
  Evt16: 'Sta2 Sta3 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
  Evt17: 'Sta2 Sta3 Sta4 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
  Evt18: 'Sta2 Sta13',
  Evt19: 'Sta2 Sta3 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13',
};

describe('the transition table written out (one entry per cell of Table 9-10)', () => {
  const cells = Object.keys(TRANSITION_TABLE) as Cell[];

  it('has exactly the non-blank cells of PS3.8 Table 9-10: 123 of the 19 × 13', () => {
    const expected = events.flatMap((e) => NON_BLANK_IN_PS38[e].split(' ').map((s) => `${e} ${s}`));
    expect(expected).toHaveLength(123);
    expect([...cells].sort()).toEqual([...expected].sort());
  });

  it('lists the cells in the order of the table: event rows, then state columns', () => {
    const number = (c: string): number[] => c.split(' ').map((x) => Number(x.replace(/\D/g, '')));
    const sorted = [...cells].sort((a, b) => number(a)[0]! - number(b)[0]! || number(a)[1]! - number(b)[1]!);
    expect(cells).toEqual(sorted);
  });

  it('matches the standard on known cells, action and next state', () => {
    const known: Array<[Cell, string, string]> = [
      ['Evt1 Sta1', 'AE-1', 'Sta4'],
      ['Evt2 Sta4', 'AE-2', 'Sta5'],
      ['Evt3 Sta5', 'AE-3', 'Sta6'],
      ['Evt4 Sta5', 'AE-4', 'Sta1'],
      ['Evt3 Sta2', 'AA-1', 'Sta13'],
      ['Evt6 Sta2', 'AE-6', 'Sta3|Sta13'],
      ['Evt6 Sta13', 'AA-7', 'Sta13'],
      ['Evt10 Sta7', 'AR-6', 'Sta7'],
      ['Evt12 Sta7', 'AR-8', 'Sta9|Sta10'],
      ['Evt13 Sta10', 'AR-10', 'Sta12'],
      ['Evt13 Sta11', 'AR-3', 'Sta1'],
      ['Evt13 Sta13', 'AA-6', 'Sta13'],
      ['Evt14 Sta9', 'AR-9', 'Sta11'],
      ['Evt15 Sta4', 'AA-2', 'Sta1'],
      ['Evt16 Sta13', 'AA-2', 'Sta1'],
      ['Evt17 Sta4', 'AA-4', 'Sta1'],
      ['Evt17 Sta13', 'AR-5', 'Sta1'],
      ['Evt18 Sta13', 'AA-2', 'Sta1'],
      ['Evt19 Sta13', 'AA-7', 'Sta13'],
    ];
    for (const [cell, action, next] of known) expect(TRANSITION_TABLE[cell], cell).toEqual({ action, next });
  });

  it('gives each cell the next state of its action (PS3.8 Tables 9-6 to 9-9)', () => {
    for (const cell of cells) expect(TRANSITION_TABLE[cell]!.next, cell).toBe(ACTIONS[TRANSITION_TABLE[cell]!.action].next);
  });

  it('runs, in every cell, an action that ends in the next state the cell gives', () => {
    for (const cell of cells) {
      const [event, state] = cell.split(' ') as [Event, State];
      const transition = transitionFor(state, event)!;
      expect(transition, cell).toBe(TRANSITION_TABLE[cell]);
      const { port } = fakePort();
      const pdu = transition.action === 'AE-6' ? rqPdu(1) : pduFor(transition.action);
      const next = ACTION_FUNCTIONS[transition.action](port, pdu ? { pdu } : {}, event);
      expect(transition.next.split('|'), cell).toContain(next);
    }
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

function rqPdu(protocolVersion: number): Pdu {
  return {
    type: 'A-ASSOCIATE-RQ', protocolVersion, calledAeTitle: 'A', callingAeTitle: 'B', applicationContextName: '1.2',
    presentationContexts: [], userInformation: { roleSelections: [], sopClassExtended: [], sopClassCommonExtended: [], unknown: [] },
  };
}
