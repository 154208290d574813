/**
 * The actions of the DICOM Upper Layer state machine (PS3.8 Tables 9-6 to
 * 9-9), one small function each, named as PS3.8 names them (AE_1 is AE-1).
 * Each says which cells of Table 9-10 (event in state, see
 * ./state-machine.ts) trigger it, and returns the next state. They act only
 * through `UpperLayerPort`, so the same functions serve both roles: the
 * acceptor (./association.ts, the SCP) and the requestor (./scu-association.ts, the SCU).
 */
import { AbortReason, AbortSource } from './bytes.js';
import type { AAbort, AAssociateAc, AAssociateRj, AAssociateRq, Pdu } from './pdu.js';
import type { ActionName, Event, State } from './state-machine.js';

export type Indication =
  | { kind: 'A-ASSOCIATE indication'; rq: AAssociateRq }
  | { kind: 'A-ASSOCIATE confirmation accept'; ac: AAssociateAc }
  | { kind: 'A-ASSOCIATE confirmation reject'; rj: AAssociateRj }
  | { kind: 'P-DATA indication' }
  | { kind: 'A-RELEASE indication'; collision: boolean }
  | { kind: 'A-RELEASE confirmation' }
  | { kind: 'A-ABORT indication'; source: number; reason: number }
  | { kind: 'A-P-ABORT indication'; reason: number; detail?: string };

/** What an event brings with it: a received PDU, a PDU to send, or why to abort. */
export interface EventData {
  pdu?: Pdu;
  /** Evt15 / Evt19 / protocol errors: the A-ABORT source and reason to send. */
  abortSource?: AbortSource;
  abortReason?: AbortReason;
  detail?: string;
}

/** The upper layer service provider as the actions see it. */
export interface UpperLayerPort {
  readonly isRequestor: boolean;
  connectTransport(): void;
  sendPdu(pdu: Pdu): void;
  closeTransport(): void;
  /** `awaitingRequest`: the Sta2 wait for the A-ASSOCIATE-RQ (AE-5), which may have a shorter time than the others. */
  startArtim(awaitingRequest?: boolean): void;
  stopArtim(): void;
  indicate(indication: Indication): void;
  /** AE-6: the service-provider's own check of an A-ASSOCIATE-RQ; a rejection, or undefined to pass it on. */
  providerRejection(rq: AAssociateRq): AAssociateRj | undefined;
}

export type Action = (port: UpperLayerPort, data: EventData, event: Event) => State;

function pduOf<T extends Pdu['type']>(data: EventData, type: T): Extract<Pdu, { type: T }> {
  if (data.pdu?.type !== type) throw new Error(`action expects a ${type}, got ${data.pdu?.type ?? 'nothing'}`);
  return data.pdu as Extract<Pdu, { type: T }>;
}

/** An A-ABORT sent by the provider for a protocol error (source 2 and a reason). */
function providerAbort(data: EventData, fallback: AbortReason): AAbort {
  return { type: 'A-ABORT', source: AbortSource.ServiceProvider, reason: data.abortReason ?? fallback };
}

// ---- Association establishment (PS3.8 Table 9-6)

/** AE-1 (Evt1 in Sta1): issue TRANSPORT CONNECT request primitive. */
export const AE_1: Action = (p) => {
  p.connectTransport();
  return 'Sta4';
};
/** AE-2 (Evt2 in Sta4): send A-ASSOCIATE-RQ PDU. */
export const AE_2: Action = (p, d) => {
  p.sendPdu(pduOf(d, 'A-ASSOCIATE-RQ'));
  return 'Sta5';
};
/** AE-3 (Evt3 in Sta5): issue A-ASSOCIATE confirmation (accept). */
export const AE_3: Action = (p, d) => {
  p.indicate({ kind: 'A-ASSOCIATE confirmation accept', ac: pduOf(d, 'A-ASSOCIATE-AC') });
  return 'Sta6';
};
/** AE-4 (Evt4 in Sta5): issue A-ASSOCIATE confirmation (reject), close transport. */
export const AE_4: Action = (p, d) => {
  p.indicate({ kind: 'A-ASSOCIATE confirmation reject', rj: pduOf(d, 'A-ASSOCIATE-RJ') });
  p.closeTransport();
  return 'Sta1';
};
/** AE-5 (Evt5 in Sta1): transport connection response; start ARTIM. */
export const AE_5: Action = (p) => {
  p.startArtim(true);
  return 'Sta2';
};
/**
 * AE-6 (Evt6 in Sta2): stop ARTIM; if the service provider accepts the RQ,
 * issue A-ASSOCIATE indication (Sta3), else send A-ASSOCIATE-RJ and start ARTIM (Sta13).
 */
export const AE_6: Action = (p, d) => {
  p.stopArtim();
  const rq = pduOf(d, 'A-ASSOCIATE-RQ');
  const rj = p.providerRejection(rq);
  if (rj) {
    p.sendPdu(rj);
    p.startArtim();
    return 'Sta13';
  }
  p.indicate({ kind: 'A-ASSOCIATE indication', rq });
  return 'Sta3';
};
/** AE-7 (Evt7 in Sta3): send A-ASSOCIATE-AC PDU. */
export const AE_7: Action = (p, d) => {
  p.sendPdu(pduOf(d, 'A-ASSOCIATE-AC'));
  return 'Sta6';
};
/** AE-8 (Evt8 in Sta3): send A-ASSOCIATE-RJ PDU and start ARTIM. */
export const AE_8: Action = (p, d) => {
  p.sendPdu(pduOf(d, 'A-ASSOCIATE-RJ'));
  p.startArtim();
  return 'Sta13';
};

// ---- Data transfer (PS3.8 Table 9-7)

/** DT-1 (Evt9 in Sta6): send P-DATA-TF PDU. */
export const DT_1: Action = (p, d) => {
  p.sendPdu(pduOf(d, 'P-DATA-TF'));
  return 'Sta6';
};
/** DT-2 (Evt10 in Sta6): send P-DATA indication primitive. */
export const DT_2: Action = (p) => {
  p.indicate({ kind: 'P-DATA indication' });
  return 'Sta6';
};

// ---- Association release (PS3.8 Table 9-8)

/** AR-1 (Evt11 in Sta6): send A-RELEASE-RQ PDU. */
export const AR_1: Action = (p) => {
  p.sendPdu({ type: 'A-RELEASE-RQ' });
  return 'Sta7';
};
/** AR-2 (Evt12 in Sta6): issue A-RELEASE indication. */
export const AR_2: Action = (p) => {
  p.indicate({ kind: 'A-RELEASE indication', collision: false });
  return 'Sta8';
};
/** AR-3 (Evt13 in Sta7 and Sta11): issue A-RELEASE confirmation, close transport. */
export const AR_3: Action = (p) => {
  p.indicate({ kind: 'A-RELEASE confirmation' });
  p.closeTransport();
  return 'Sta1';
};
/** AR-4 (Evt14 in Sta8 and Sta12): send A-RELEASE-RP PDU and start ARTIM. */
export const AR_4: Action = (p) => {
  p.sendPdu({ type: 'A-RELEASE-RP' });
  p.startArtim();
  return 'Sta13';
};
/** AR-5 (Evt17 in Sta13): stop ARTIM (the transport is closed). */
export const AR_5: Action = (p) => {
  p.stopArtim();
  return 'Sta1';
};
/** AR-6 (Evt10 in Sta7): issue P-DATA indication. */
export const AR_6: Action = (p) => {
  p.indicate({ kind: 'P-DATA indication' });
  return 'Sta7';
};
/** AR-7 (Evt9 in Sta8): send P-DATA-TF PDU. */
export const AR_7: Action = (p, d) => {
  p.sendPdu(pduOf(d, 'P-DATA-TF'));
  return 'Sta8';
};
/** AR-8 (Evt12 in Sta7): A-RELEASE indication (release collision); Sta9 for the requestor, Sta10 for the acceptor. */
export const AR_8: Action = (p) => {
  p.indicate({ kind: 'A-RELEASE indication', collision: true });
  return p.isRequestor ? 'Sta9' : 'Sta10';
};
/** AR-9 (Evt14 in Sta9): send A-RELEASE-RP PDU. */
export const AR_9: Action = (p) => {
  p.sendPdu({ type: 'A-RELEASE-RP' });
  return 'Sta11';
};
/** AR-10 (Evt13 in Sta10): issue A-RELEASE confirmation. */
export const AR_10: Action = (p) => {
  p.indicate({ kind: 'A-RELEASE confirmation' });
  return 'Sta12';
};

// ---- Association abort (PS3.8 Table 9-9)

/**
 * AA-1 (Evt15 in Sta3 and Sta5..Sta12; Evt3, 4, 10, 12, 13, 19 in Sta2): send
 * A-ABORT and (re)start ARTIM. For the local A-ABORT request (Evt15) the
 * source is the service user (or what the request says); for a PDU that is
 * unexpected or invalid in Sta2 we say so: source 2 (service provider) with
 * reason 2 (unexpected PDU) or the reason of the decoding error.
 */
export const AA_1: Action = (p, d, event) => {
  if (event === 'Evt15')
    p.sendPdu({ type: 'A-ABORT', source: d.abortSource ?? AbortSource.ServiceUser, reason: d.abortReason ?? AbortReason.NotSpecified });
  else p.sendPdu(providerAbort(d, event === 'Evt19' ? AbortReason.UnrecognizedPdu : AbortReason.UnexpectedPdu));
  p.startArtim();
  return 'Sta13';
};
/** AA-2 (Evt16 and Evt18 in Sta2 and Sta13; Evt15 in Sta4): stop ARTIM, close transport. */
export const AA_2: Action = (p) => {
  p.stopArtim();
  p.closeTransport();
  return 'Sta1';
};
/** AA-3 (Evt16 in Sta3 and Sta5..Sta12): issue A-ABORT (or A-P-ABORT) indication, close transport. */
export const AA_3: Action = (p, d) => {
  const abort = pduOf(d, 'A-ABORT');
  if (abort.source === AbortSource.ServiceProvider) p.indicate({ kind: 'A-P-ABORT indication', reason: abort.reason });
  else p.indicate({ kind: 'A-ABORT indication', source: abort.source, reason: abort.reason });
  p.closeTransport();
  return 'Sta1';
};
/** AA-4 (Evt17 in Sta3..Sta12): issue A-P-ABORT indication. */
export const AA_4: Action = (p, d) => {
  p.indicate({ kind: 'A-P-ABORT indication', reason: AbortReason.NotSpecified, detail: d.detail ?? 'transport connection closed' });
  return 'Sta1';
};
/** AA-5 (Evt17 in Sta2): stop ARTIM. */
export const AA_5: Action = (p) => {
  p.stopArtim();
  return 'Sta1';
};
/** AA-6 (Evt3, 4, 10, 12, 13 in Sta13): ignore the PDU. */
export const AA_6: Action = () => 'Sta13';
/** AA-7 (Evt6 and Evt19 in Sta13): send A-ABORT PDU. */
export const AA_7: Action = (p, d) => {
  p.sendPdu(providerAbort(d, AbortReason.UnexpectedPdu));
  return 'Sta13';
};
/**
 * AA-8 (Evt3, 4, 6, 10, 12, 13, 19 in Sta3 and Sta5..Sta12, except the cells
 * where the PDU is expected: Evt3/Evt4 in Sta5, Evt10/Evt12 in Sta6 and Sta7,
 * Evt13 in Sta7, Sta10 and Sta11): an unexpected or invalid PDU. Send A-ABORT
 * (service-provider source), issue A-P-ABORT indication, start ARTIM.
 */
export const AA_8: Action = (p, d, event) => {
  const abort = providerAbort(d, event === 'Evt19' ? AbortReason.UnrecognizedPdu : AbortReason.UnexpectedPdu);
  p.sendPdu(abort);
  p.indicate({ kind: 'A-P-ABORT indication', reason: abort.reason, ...(d.detail ? { detail: d.detail } : {}) });
  p.startArtim();
  return 'Sta13';
};

/** Action name (PS3.8) → function. */
export const ACTION_FUNCTIONS: Readonly<Record<ActionName, Action>> = {
  'AE-1': AE_1, 'AE-2': AE_2, 'AE-3': AE_3, 'AE-4': AE_4, 'AE-5': AE_5, 'AE-6': AE_6, 'AE-7': AE_7, 'AE-8': AE_8,
  'DT-1': DT_1, 'DT-2': DT_2,
  'AR-1': AR_1, 'AR-2': AR_2, 'AR-3': AR_3, 'AR-4': AR_4, 'AR-5': AR_5,
  'AR-6': AR_6, 'AR-7': AR_7, 'AR-8': AR_8, 'AR-9': AR_9, 'AR-10': AR_10,
  'AA-1': AA_1, 'AA-2': AA_2, 'AA-3': AA_3, 'AA-4': AA_4, 'AA-5': AA_5, 'AA-6': AA_6, 'AA-7': AA_7, 'AA-8': AA_8,
};
