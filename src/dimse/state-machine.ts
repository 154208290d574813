/**
 * The DICOM Upper Layer state machine as data: PS3.8 Section 9.2, states
 * (Table 9-2), events (Table 9-9) and the state transition table (Table 9-10).
 * The actions themselves are in ./actions.ts; this file only says which action
 * an event triggers in a state, and the next state PS3.8 gives for it. Both
 * roles are in the table and the bridge drives both: the acceptor for the SCP
 * (./association.ts) and the requestor for the SCU (./scu-association.ts).
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

/** A cell of Table 9-10: the event (row) and the state (column). */
export type Cell = `${Event} ${State}`;

/** What a cell says: the action to run and the next state (two for AE-6 and AR-8, which choose). */
export interface Transition {
  action: ActionName;
  next: (typeof ACTIONS)[ActionName]['next'];
}

/**
 * PS3.8 Table 9-10, written out: one entry per non-blank cell, in the
 * order of the table (event rows Evt1..Evt19, state columns Sta1..Sta13),
 * so it can be checked against the standard line by line. A cell not listed
 * is blank in the standard (see `undefinedBecause`).
 */
export const TRANSITION_TABLE: Readonly<Partial<Record<Cell, Transition>>> = Object.freeze({
  // Evt1: A-ASSOCIATE request (local user)
  'Evt1 Sta1':   { action: 'AE-1', next: 'Sta4' },
  // Evt2: Transport connect confirmation (local transport service)
  'Evt2 Sta4':   { action: 'AE-2', next: 'Sta5' },
  // Evt3: A-ASSOCIATE-AC PDU (received on transport connection)
  'Evt3 Sta2':   { action: 'AA-1', next: 'Sta13' },
  'Evt3 Sta3':   { action: 'AA-8', next: 'Sta13' },
  'Evt3 Sta5':   { action: 'AE-3', next: 'Sta6' },
  'Evt3 Sta6':   { action: 'AA-8', next: 'Sta13' },
  'Evt3 Sta7':   { action: 'AA-8', next: 'Sta13' },
  'Evt3 Sta8':   { action: 'AA-8', next: 'Sta13' },
  'Evt3 Sta9':   { action: 'AA-8', next: 'Sta13' },
  'Evt3 Sta10':  { action: 'AA-8', next: 'Sta13' },
  'Evt3 Sta11':  { action: 'AA-8', next: 'Sta13' },
  'Evt3 Sta12':  { action: 'AA-8', next: 'Sta13' },
  'Evt3 Sta13':  { action: 'AA-6', next: 'Sta13' },
  // Evt4: A-ASSOCIATE-RJ PDU (received on transport connection)
  'Evt4 Sta2':   { action: 'AA-1', next: 'Sta13' },
  'Evt4 Sta3':   { action: 'AA-8', next: 'Sta13' },
  'Evt4 Sta5':   { action: 'AE-4', next: 'Sta1' },
  'Evt4 Sta6':   { action: 'AA-8', next: 'Sta13' },
  'Evt4 Sta7':   { action: 'AA-8', next: 'Sta13' },
  'Evt4 Sta8':   { action: 'AA-8', next: 'Sta13' },
  'Evt4 Sta9':   { action: 'AA-8', next: 'Sta13' },
  'Evt4 Sta10':  { action: 'AA-8', next: 'Sta13' },
  'Evt4 Sta11':  { action: 'AA-8', next: 'Sta13' },
  'Evt4 Sta12':  { action: 'AA-8', next: 'Sta13' },
  'Evt4 Sta13':  { action: 'AA-6', next: 'Sta13' },
  // Evt5: Transport connection indication (local transport service)
  'Evt5 Sta1':   { action: 'AE-5', next: 'Sta2' },
  // Evt6: A-ASSOCIATE-RQ PDU (received on transport connection)
  'Evt6 Sta2':   { action: 'AE-6', next: 'Sta3|Sta13' },
  'Evt6 Sta3':   { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta5':   { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta6':   { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta7':   { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta8':   { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta9':   { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta10':  { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta11':  { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta12':  { action: 'AA-8', next: 'Sta13' },
  'Evt6 Sta13':  { action: 'AA-7', next: 'Sta13' },
  // Evt7: A-ASSOCIATE response primitive (accept)
  'Evt7 Sta3':   { action: 'AE-7', next: 'Sta6' },
  // Evt8: A-ASSOCIATE response primitive (reject)
  'Evt8 Sta3':   { action: 'AE-8', next: 'Sta13' },
  // Evt9: P-DATA request primitive
  'Evt9 Sta6':   { action: 'DT-1', next: 'Sta6' },
  'Evt9 Sta8':   { action: 'AR-7', next: 'Sta8' },
  // Evt10: P-DATA-TF PDU
  'Evt10 Sta2':  { action: 'AA-1', next: 'Sta13' },
  'Evt10 Sta3':  { action: 'AA-8', next: 'Sta13' },
  'Evt10 Sta5':  { action: 'AA-8', next: 'Sta13' },
  'Evt10 Sta6':  { action: 'DT-2', next: 'Sta6' },
  'Evt10 Sta7':  { action: 'AR-6', next: 'Sta7' },
  'Evt10 Sta8':  { action: 'AA-8', next: 'Sta13' },
  'Evt10 Sta9':  { action: 'AA-8', next: 'Sta13' },
  'Evt10 Sta10': { action: 'AA-8', next: 'Sta13' },
  'Evt10 Sta11': { action: 'AA-8', next: 'Sta13' },
  'Evt10 Sta12': { action: 'AA-8', next: 'Sta13' },
  'Evt10 Sta13': { action: 'AA-6', next: 'Sta13' },
  // Evt11: A-RELEASE request primitive
  'Evt11 Sta6':  { action: 'AR-1', next: 'Sta7' },
  // Evt12: A-RELEASE-RQ PDU (received on open transport connection)
  'Evt12 Sta2':  { action: 'AA-1', next: 'Sta13' },
  'Evt12 Sta3':  { action: 'AA-8', next: 'Sta13' },
  'Evt12 Sta5':  { action: 'AA-8', next: 'Sta13' },
  'Evt12 Sta6':  { action: 'AR-2', next: 'Sta8' },
  'Evt12 Sta7':  { action: 'AR-8', next: 'Sta9|Sta10' },
  'Evt12 Sta8':  { action: 'AA-8', next: 'Sta13' },
  'Evt12 Sta9':  { action: 'AA-8', next: 'Sta13' },
  'Evt12 Sta10': { action: 'AA-8', next: 'Sta13' },
  'Evt12 Sta11': { action: 'AA-8', next: 'Sta13' },
  'Evt12 Sta12': { action: 'AA-8', next: 'Sta13' },
  'Evt12 Sta13': { action: 'AA-6', next: 'Sta13' },
  // Evt13: A-RELEASE-RP PDU (received on transport connection)
  'Evt13 Sta2':  { action: 'AA-1', next: 'Sta13' },
  'Evt13 Sta3':  { action: 'AA-8', next: 'Sta13' },
  'Evt13 Sta5':  { action: 'AA-8', next: 'Sta13' },
  'Evt13 Sta6':  { action: 'AA-8', next: 'Sta13' },
  'Evt13 Sta7':  { action: 'AR-3', next: 'Sta1' },
  'Evt13 Sta8':  { action: 'AA-8', next: 'Sta13' },
  'Evt13 Sta9':  { action: 'AA-8', next: 'Sta13' },
  'Evt13 Sta10': { action: 'AR-10', next: 'Sta12' },
  'Evt13 Sta11': { action: 'AR-3', next: 'Sta1' },
  'Evt13 Sta12': { action: 'AA-8', next: 'Sta13' },
  'Evt13 Sta13': { action: 'AA-6', next: 'Sta13' },
  // Evt14: A-RELEASE response primitive
  'Evt14 Sta8':  { action: 'AR-4', next: 'Sta13' },
  'Evt14 Sta9':  { action: 'AR-9', next: 'Sta11' },
  'Evt14 Sta12': { action: 'AR-4', next: 'Sta13' },
  // Evt15: A-ABORT request primitive
  'Evt15 Sta3':  { action: 'AA-1', next: 'Sta13' },
  'Evt15 Sta4':  { action: 'AA-2', next: 'Sta1' },
  'Evt15 Sta5':  { action: 'AA-1', next: 'Sta13' },
  'Evt15 Sta6':  { action: 'AA-1', next: 'Sta13' },
  'Evt15 Sta7':  { action: 'AA-1', next: 'Sta13' },
  'Evt15 Sta8':  { action: 'AA-1', next: 'Sta13' },
  'Evt15 Sta9':  { action: 'AA-1', next: 'Sta13' },
  'Evt15 Sta10': { action: 'AA-1', next: 'Sta13' },
  'Evt15 Sta11': { action: 'AA-1', next: 'Sta13' },
  'Evt15 Sta12': { action: 'AA-1', next: 'Sta13' },
  // Evt16: A-ABORT PDU (received on open transport connection)
  'Evt16 Sta2':  { action: 'AA-2', next: 'Sta1' },
  'Evt16 Sta3':  { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta5':  { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta6':  { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta7':  { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta8':  { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta9':  { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta10': { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta11': { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta12': { action: 'AA-3', next: 'Sta1' },
  'Evt16 Sta13': { action: 'AA-2', next: 'Sta1' },
  // Evt17: Transport connection closed indication (local transport service)
  'Evt17 Sta2':  { action: 'AA-5', next: 'Sta1' },
  'Evt17 Sta3':  { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta4':  { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta5':  { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta6':  { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta7':  { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta8':  { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta9':  { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta10': { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta11': { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta12': { action: 'AA-4', next: 'Sta1' },
  'Evt17 Sta13': { action: 'AR-5', next: 'Sta1' },
  // Evt18: ARTIM timer expired (Association reject/release timer)
  'Evt18 Sta2':  { action: 'AA-2', next: 'Sta1' },
  'Evt18 Sta13': { action: 'AA-2', next: 'Sta1' },
  // Evt19: Unrecognized or invalid PDU received
  'Evt19 Sta2':  { action: 'AA-1', next: 'Sta13' },
  'Evt19 Sta3':  { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta5':  { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta6':  { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta7':  { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta8':  { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta9':  { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta10': { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta11': { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta12': { action: 'AA-8', next: 'Sta13' },
  'Evt19 Sta13': { action: 'AA-7', next: 'Sta13' },
});

/** The table indexed by event then state, built once, for the driver's lookup. */
const BY_EVENT: Readonly<Record<Event, Partial<Record<State, Transition>>>> = (() => {
  const index = Object.fromEntries(Object.keys(EVENTS).map((e) => [e, {}])) as Record<Event, Partial<Record<State, Transition>>>;
  for (const [cell, transition] of Object.entries(TRANSITION_TABLE) as Array<[Cell, Transition]>) {
    const [event, state] = cell.split(' ') as [Event, State];
    index[event][state] = transition;
  }
  return index;
})();

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

/** The cell of Table 9-10 for an event in a state, or undefined for a blank cell. */
export function transitionFor(state: State, event: Event): Transition | undefined {
  return BY_EVENT[event][state];
}

/** The action Table 9-10 gives for an event in a state, or undefined for a blank cell. */
export function actionFor(state: State, event: Event): ActionName | undefined {
  return BY_EVENT[event][state]?.action;
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
