/**
 * The DICOM Upper Layer state machine as data: PS3.8 Section 9.2, states
 * (Table 9-2), events (Table 9-9) and the state transition table (Table 9-10).
 * The actions themselves are in ./actions.ts; this file only says which action
 * an event triggers in a state. Both roles (requestor and acceptor) are in
 * the table; the bridge currently drives it as the acceptor only.
 */

export const STATES = {
  Sta1: 'Idle',
  Sta2: 'Transport connection open (Awaiting A-ASSOCIATE-RQ PDU)',
  Sta3: 'Awaiting local A-ASSOCIATE response primitive (from local user)',
  Sta4: 'Awaiting transport connection opening to complete (from local transport service)',
  Sta5: 'Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU',
  Sta6: 'Association established and ready for data transfer',
  Sta7: 'Awaiting A-RELEASE-RP PDU',
  Sta8: 'Awaiting local A-RELEASE response primitive (from local user)',
  Sta9: 'Release collision requestor side; awaiting A-RELEASE response (from local user)',
  Sta10: 'Release collision acceptor side; awaiting A-RELEASE-RP PDU',
  Sta11: 'Release collision requestor side; awaiting A-RELEASE-RP PDU',
  Sta12: 'Release collision acceptor side; awaiting A-RELEASE response primitive (from local user)',
  Sta13: 'Awaiting Transport Connection Close Indication (Association no longer exists)',
} as const;
export type State = keyof typeof STATES;

export const EVENTS = {
  Evt1: 'A-ASSOCIATE request (local user)',
  Evt2: 'Transport connect confirmation (local transport service)',
  Evt3: 'A-ASSOCIATE-AC PDU (received on transport connection)',
  Evt4: 'A-ASSOCIATE-RJ PDU (received on transport connection)',
  Evt5: 'Transport connection indication (local transport service)',
  Evt6: 'A-ASSOCIATE-RQ PDU (received on transport connection)',
  Evt7: 'A-ASSOCIATE response primitive (accept)',
  Evt8: 'A-ASSOCIATE response primitive (reject)',
  Evt9: 'P-DATA request primitive',
  Evt10: 'P-DATA-TF PDU',
  Evt11: 'A-RELEASE request primitive',
  Evt12: 'A-RELEASE-RQ PDU (received on open transport connection)',
  Evt13: 'A-RELEASE-RP PDU (received on transport connection)',
  Evt14: 'A-RELEASE response primitive',
  Evt15: 'A-ABORT request primitive',
  Evt16: 'A-ABORT PDU (received on open transport connection)',
  Evt17: 'Transport connection closed indication (local transport service)',
  Evt18: 'ARTIM timer expired (Association reject/release timer)',
  Evt19: 'Unrecognized or invalid PDU received',
} as const;
export type Event = keyof typeof EVENTS;

/** PS3.8 Tables 9-6 (AE), 9-7 (DT), 9-8 (AR) and 9-9 (AA). */
export const ACTIONS = {
  'AE-1': { table: '9-6', next: 'Sta4', text: 'Issue TRANSPORT CONNECT request primitive to local transport service' },
  'AE-2': { table: '9-6', next: 'Sta5', text: 'Send A-ASSOCIATE-RQ-PDU' },
  'AE-3': { table: '9-6', next: 'Sta6', text: 'Issue A-ASSOCIATE confirmation (accept) primitive' },
  'AE-4': { table: '9-6', next: 'Sta1', text: 'Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection' },
  'AE-5': { table: '9-6', next: 'Sta2', text: 'Issue Transport connection response primitive; start ARTIM timer' },
  'AE-6': { table: '9-6', next: 'Sta3|Sta13', text: 'Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable by service-provider issue A-ASSOCIATE indication primitive, otherwise issue A-ASSOCIATE-RJ-PDU and start ARTIM timer' },
  'AE-7': { table: '9-6', next: 'Sta6', text: 'Send A-ASSOCIATE-AC PDU' },
  'AE-8': { table: '9-6', next: 'Sta13', text: 'Send A-ASSOCIATE-RJ PDU and start ARTIM timer' },
  'DT-1': { table: '9-7', next: 'Sta6', text: 'Send P-DATA-TF PDU' },
  'DT-2': { table: '9-7', next: 'Sta6', text: 'Send P-DATA indication primitive' },
  'AR-1': { table: '9-8', next: 'Sta7', text: 'Send A-RELEASE-RQ PDU' },
  'AR-2': { table: '9-8', next: 'Sta8', text: 'Issue A-RELEASE indication primitive' },
  'AR-3': { table: '9-8', next: 'Sta1', text: 'Issue A-RELEASE confirmation primitive, and close transport connection' },
  'AR-4': { table: '9-8', next: 'Sta13', text: 'Issue A-RELEASE-RP PDU and start ARTIM timer' },
  'AR-5': { table: '9-8', next: 'Sta1', text: 'Stop ARTIM timer' },
  'AR-6': { table: '9-8', next: 'Sta7', text: 'Issue P-DATA indication' },
  'AR-7': { table: '9-8', next: 'Sta8', text: 'Issue P-DATA-TF PDU' },
  'AR-8': { table: '9-8', next: 'Sta9|Sta10', text: 'Issue A-RELEASE indication (release collision): Sta9 if association-requestor, else Sta10' },
  'AR-9': { table: '9-8', next: 'Sta11', text: 'Send A-RELEASE-RP PDU' },
  'AR-10': { table: '9-8', next: 'Sta12', text: 'Issue A-RELEASE confirmation primitive' },
  'AA-1': { table: '9-9', next: 'Sta13', text: 'Send A-ABORT PDU (service-user source) and start (or restart if already started) ARTIM timer' },
  'AA-2': { table: '9-9', next: 'Sta1', text: 'Stop ARTIM timer if running. Close transport connection' },
  'AA-3': { table: '9-9', next: 'Sta1', text: 'Issue A-ABORT (service-user initiated) or A-P-ABORT (service-provider initiated) indication and close transport connection' },
  'AA-4': { table: '9-9', next: 'Sta1', text: 'Issue A-P-ABORT indication primitive' },
  'AA-5': { table: '9-9', next: 'Sta1', text: 'Stop ARTIM timer' },
  'AA-6': { table: '9-9', next: 'Sta13', text: 'Ignore PDU' },
  'AA-7': { table: '9-9', next: 'Sta13', text: 'Send A-ABORT PDU' },
  'AA-8': { table: '9-9', next: 'Sta13', text: 'Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and start ARTIM timer' },
} as const;
export type ActionName = keyof typeof ACTIONS;

/** Sta3 .. Sta12 minus Sta4: the states with an open connection after the A-ASSOCIATE-RQ. */
const AFTER_RQ = ['Sta3', 'Sta5', 'Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12'] as const;

function row(entries: Partial<Record<State, ActionName>>, others?: { states: readonly State[]; action: ActionName }) {
  const out: Partial<Record<State, ActionName>> = {};
  if (others) for (const s of others.states) out[s] = others.action;
  return Object.freeze({ ...out, ...entries });
}

/** PS3.8 Table 9-10, one row per event: state → action. */
export const TRANSITIONS: Readonly<Record<Event, Readonly<Partial<Record<State, ActionName>>>>> = Object.freeze({
  Evt1: row({ Sta1: 'AE-1' }),
  Evt2: row({ Sta4: 'AE-2' }),
  Evt3: row({ Sta2: 'AA-1', Sta5: 'AE-3', Sta13: 'AA-6' }, { states: AFTER_RQ, action: 'AA-8' }),
  Evt4: row({ Sta2: 'AA-1', Sta5: 'AE-4', Sta13: 'AA-6' }, { states: AFTER_RQ, action: 'AA-8' }),
  Evt5: row({ Sta1: 'AE-5' }),
  Evt6: row({ Sta2: 'AE-6', Sta13: 'AA-7' }, { states: AFTER_RQ, action: 'AA-8' }),
  Evt7: row({ Sta3: 'AE-7' }),
  Evt8: row({ Sta3: 'AE-8' }),
  Evt9: row({ Sta6: 'DT-1', Sta8: 'AR-7' }),
  Evt10: row({ Sta2: 'AA-1', Sta6: 'DT-2', Sta7: 'AR-6', Sta13: 'AA-6' }, { states: AFTER_RQ, action: 'AA-8' }),
  Evt11: row({ Sta6: 'AR-1' }),
  Evt12: row({ Sta2: 'AA-1', Sta6: 'AR-2', Sta7: 'AR-8', Sta13: 'AA-6' }, { states: AFTER_RQ, action: 'AA-8' }),
  Evt13: row(
    { Sta2: 'AA-1', Sta7: 'AR-3', Sta10: 'AR-10', Sta11: 'AR-3', Sta13: 'AR-5' },
    { states: AFTER_RQ, action: 'AA-8' },
  ),
  Evt14: row({ Sta8: 'AR-4', Sta9: 'AR-9', Sta12: 'AR-4' }),
  Evt15: row({ Sta4: 'AA-2' }, { states: AFTER_RQ, action: 'AA-1' }),
  Evt16: row({ Sta2: 'AA-2', Sta13: 'AA-2' }, { states: AFTER_RQ, action: 'AA-3' }),
  Evt17: row({ Sta2: 'AA-5', Sta4: 'AA-4', Sta13: 'AR-5' }, { states: AFTER_RQ, action: 'AA-4' }),
  Evt18: row({ Sta2: 'AA-2', Sta13: 'AA-2' }),
  Evt19: row({ Sta2: 'AA-1', Sta13: 'AA-7' }, { states: AFTER_RQ, action: 'AA-8' }),
});

/**
 * Why a (state, event) pair has no entry in Table 9-10. PS3.8 leaves these
 * blank: they cannot occur. The implementation treats a PDU event in such a
 * pair as impossible (no connection) and a local primitive as a local error.
 */
export const UNDEFINED_BECAUSE = {
  noConnection: 'Sta1 and Sta4 have no open transport connection, so no PDU, close or timer event can arrive',
  localPrimitive: 'a local primitive the service user may only issue in the states listed for it (local error otherwise)',
  transportPrimitive: 'a transport service primitive that only occurs in the state listed for it',
  artimNotRunning: 'the ARTIM timer only runs in Sta2 and Sta13',
} as const;

const LOCAL_PRIMITIVES: ReadonlySet<Event> = new Set(['Evt1', 'Evt7', 'Evt8', 'Evt9', 'Evt11', 'Evt14', 'Evt15']);
const TRANSPORT_PRIMITIVES: ReadonlySet<Event> = new Set(['Evt2', 'Evt5']);

/** The action Table 9-10 gives for an event in a state, or undefined for a blank cell. */
export function actionFor(state: State, event: Event): ActionName | undefined {
  return TRANSITIONS[event][state];
}

/** For a blank cell of Table 9-10, the documented reason it is blank. */
export function undefinedBecause(state: State, event: Event): string | undefined {
  if (actionFor(state, event) !== undefined) return undefined;
  if (LOCAL_PRIMITIVES.has(event)) return UNDEFINED_BECAUSE.localPrimitive;
  if (TRANSPORT_PRIMITIVES.has(event)) return UNDEFINED_BECAUSE.transportPrimitive;
  if (state === 'Sta1' || state === 'Sta4') return UNDEFINED_BECAUSE.noConnection;
  if (event === 'Evt18') return UNDEFINED_BECAUSE.artimNotRunning;
  return undefined;
}
