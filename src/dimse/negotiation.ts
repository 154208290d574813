/**
 * Acceptor-side association negotiation: whether to accept an A-ASSOCIATE-RQ
 * (PS3.8 Table 9-21 reasons when not), the result per presentation context
 * (PS3.8 Table 9-18) and the user information we answer (PS3.7 Annex D).
 */
import { STORAGE_SOP_CLASSES, TRANSFER_SYNTAXES, VERIFICATION_SOP_CLASS } from '../dicom/uids.js';
import {
  DEFAULT_TRANSFER_SYNTAX_PREFERENCE,
  DICOM_APPLICATION_CONTEXT,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  PROTOCOL_VERSION,
} from './constants.js';
import type { AAssociateAc, AAssociateRj, AAssociateRq } from './pdu.js';
import { RejectReason, RejectResult, RejectSource } from './pdu.js';
import {
  PresentationContextResult,
  emptyUserInformation,
  type PresentationContextAc,
  type PresentationContextRq,
  type UserInformation,
} from './pdu-items.js';

export type RejectionReason = 'called-ae' | 'calling-ae' | 'congestion' | 'application-context' | 'protocol-version';

/** The A-ASSOCIATE-RJ fields for each reason we reject with (PS3.8 Table 9-21). */
export const REJECTIONS: Readonly<Record<RejectionReason, Omit<AAssociateRj, 'type'>>> = {
  'protocol-version': { result: RejectResult.Permanent, source: RejectSource.ServiceProviderAcse, reason: RejectReason.acse.ProtocolVersionNotSupported },
  'application-context': { result: RejectResult.Permanent, source: RejectSource.ServiceUser, reason: RejectReason.user.ApplicationContextNameNotSupported },
  'called-ae': { result: RejectResult.Permanent, source: RejectSource.ServiceUser, reason: RejectReason.user.CalledAeTitleNotRecognized },
  'calling-ae': { result: RejectResult.Permanent, source: RejectSource.ServiceUser, reason: RejectReason.user.CallingAeTitleNotRecognized },
  congestion: { result: RejectResult.Transient, source: RejectSource.ServiceProviderPresentation, reason: RejectReason.presentation.TemporaryCongestion },
};

export function rejection(reason: RejectionReason): AAssociateRj {
  return { type: 'A-ASSOCIATE-RJ', ...REJECTIONS[reason] };
}

/** Service-provider check of AE-6: the protocol version must have bit 0 set (PS3.8 Table 9-11). */
export function isProtocolVersionSupported(rq: AAssociateRq): boolean {
  return (rq.protocolVersion & PROTOCOL_VERSION) !== 0;
}

export interface AcceptancePolicy {
  aeTitles: readonly string[];
  isCallerAllowed?: (callingAeTitle: string, peerAddress: string) => boolean;
  /** True when one more association (of this calling AE title) would exceed a configured maximum. */
  congested: (callingAeTitle: string) => boolean;
}

/** Service-user decision on an A-ASSOCIATE indication: undefined means accept. */
export function rejectionFor(rq: AAssociateRq, peerAddress: string, policy: AcceptancePolicy): RejectionReason | undefined {
  if (rq.applicationContextName !== DICOM_APPLICATION_CONTEXT) return 'application-context';
  if (!policy.aeTitles.some((t) => t.trim() === rq.calledAeTitle)) return 'called-ae';
  if (policy.isCallerAllowed && !policy.isCallerAllowed(rq.callingAeTitle, peerAddress)) return 'calling-ae';
  if (policy.congested(rq.callingAeTitle)) return 'congestion';
  return undefined;
}

export function isSupportedAbstractSyntax(uid: string): boolean {
  return uid === VERIFICATION_SOP_CLASS || STORAGE_SOP_CLASSES.has(uid);
}

/**
 * Picks the transfer syntax of one presentation context: the first of
 * `preference` that was offered, else the first offered one we support.
 */
export function chooseTransferSyntax(offered: readonly string[], preference: readonly string[]): string | undefined {
  for (const ts of preference) if (offered.includes(ts) && TRANSFER_SYNTAXES.has(ts)) return ts;
  return offered.find((ts) => TRANSFER_SYNTAXES.has(ts));
}

export interface AcceptedContext {
  id: number;
  abstractSyntax: string;
  transferSyntax: string;
}

export function negotiatePresentationContext(pc: PresentationContextRq, preference: readonly string[]): PresentationContextAc {
  // For a rejected context the transfer syntax sub-item is not significant (PS3.8 9.3.3.2); we echo the first offered.
  const notSignificant = pc.transferSyntaxes[0] ?? '';
  if (pc.id % 2 === 0) return { id: pc.id, result: PresentationContextResult.NoReason, transferSyntax: notSignificant };
  if (!isSupportedAbstractSyntax(pc.abstractSyntax))
    return { id: pc.id, result: PresentationContextResult.AbstractSyntaxNotSupported, transferSyntax: notSignificant };
  const ts = chooseTransferSyntax(pc.transferSyntaxes, preference);
  if (ts === undefined) return { id: pc.id, result: PresentationContextResult.TransferSyntaxesNotSupported, transferSyntax: notSignificant };
  return { id: pc.id, result: PresentationContextResult.Acceptance, transferSyntax: ts };
}

/**
 * User information of our A-ASSOCIATE-AC: maximum length, implementation
 * class UID and version name, and the asynchronous operations window
 * answered 1/1 when proposed. SCP/SCU role selection, SOP class (common)
 * extended negotiation and user identity are declined by not answering them
 * (PS3.7 D.3.3.4, D.3.3.5, D.3.3.6, D.3.3.7).
 */
export function answerUserInformation(rq: UserInformation, maxPduLength: number): UserInformation {
  const u = emptyUserInformation();
  u.maximumLength = maxPduLength;
  u.implementationClassUid = IMPLEMENTATION_CLASS_UID;
  if (rq.asyncOpsWindow) u.asyncOpsWindow = { maxOperationsInvoked: 1, maxOperationsPerformed: 1 };
  u.implementationVersionName = IMPLEMENTATION_VERSION_NAME;
  return u;
}

export interface Negotiated {
  ac: AAssociateAc;
  accepted: Map<number, AcceptedContext>;
}

export function buildAcceptance(
  rq: AAssociateRq,
  options: { maxPduLength: number; transferSyntaxPreference?: readonly string[] },
): Negotiated {
  const preference = options.transferSyntaxPreference ?? DEFAULT_TRANSFER_SYNTAX_PREFERENCE;
  const accepted = new Map<number, AcceptedContext>();
  const presentationContexts = rq.presentationContexts.map((pc) => {
    const ac = negotiatePresentationContext(pc, preference);
    if (ac.result === PresentationContextResult.Acceptance && !accepted.has(pc.id))
      accepted.set(pc.id, { id: pc.id, abstractSyntax: pc.abstractSyntax, transferSyntax: ac.transferSyntax });
    return ac;
  });
  return {
    accepted,
    ac: {
      type: 'A-ASSOCIATE-AC',
      protocolVersion: PROTOCOL_VERSION,
      calledAeTitle: rq.calledAeTitle,
      callingAeTitle: rq.callingAeTitle,
      applicationContextName: DICOM_APPLICATION_CONTEXT,
      presentationContexts,
      userInformation: answerUserInformation(rq.userInformation, options.maxPduLength),
    },
  };
}
