/**
 * C-ECHO SCU (PS3.7 Section 9.1.5, Verification SOP Class): connect (TCP or
 * TLS), A-ASSOCIATE-RQ with the Verification SOP Class, C-ECHO-RQ, await
 * the C-ECHO-RSP, A-RELEASE-RQ, close. Failures reject with an
 * AssociationError (./scu-association.ts) whose message says why:
 * connection refused, timeout, rejection with its PS3.8 result, source and
 * reason, abort with its source and reason.
 */
import type { Logger } from 'pino';
import { VERIFICATION_SOP_CLASS } from '../dicom/uids.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './constants.js';
import { CommandField, NO_DATA_SET } from './dimse-command.js';
import { AssociationError, ScuAssociation } from './scu-association.js';
import type { ClientTlsOptions } from './tls.js';

export { AssociationError } from './scu-association.js';

export interface EchoOptions {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  /** true: TLS trusting Node's CA bundle; an object: CA, client certificate and key (PEM contents). */
  tls?: boolean | ClientTlsOptions;
  /** Each wait (connect + TLS handshake, A-ASSOCIATE-AC, C-ECHO-RSP, A-RELEASE-RP); default 10000. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface EchoResult {
  /** Status (0000,0900) of the C-ECHO-RSP: 0 is success. */
  status: number;
  /** C-ECHO-RQ sent to C-ECHO-RSP received, in milliseconds. */
  rttMs: number;
}

export const DEFAULT_ECHO_TIMEOUT_MS = 10_000;

export async function echo(options: EchoOptions): Promise<EchoResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ECHO_TIMEOUT_MS;
  const association = await ScuAssociation.open({
    host: options.host,
    port: options.port,
    callingAeTitle: options.callingAeTitle,
    calledAeTitle: options.calledAeTitle,
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }],
    connectTimeoutMs: timeoutMs,
    acseTimeoutMs: timeoutMs,
    dimseTimeoutMs: timeoutMs,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  try {
    const context = association.contextFor(VERIFICATION_SOP_CLASS);
    if (context === undefined)
      throw new AssociationError(
        'not-accepted',
        `${options.calledAeTitle}@${options.host}:${options.port} did not accept the Verification SOP Class (${association.resultTextFor(VERIFICATION_SOP_CLASS)})`,
      );
    const started = performance.now();
    const rsp = await association.request(context.id, {
      commandField: CommandField.C_ECHO_RQ,
      messageId: association.nextMessageId(),
      affectedSopClassUid: VERIFICATION_SOP_CLASS,
      commandDataSetType: NO_DATA_SET,
    });
    const rttMs = performance.now() - started;
    if (rsp.commandField !== CommandField.C_ECHO_RSP || rsp.status === undefined)
      throw new AssociationError('protocol', `unexpected answer to C-ECHO-RQ: command field 0x${rsp.commandField.toString(16).padStart(4, '0')}`);
    await association.release();
    return { status: rsp.status, rttMs };
  } catch (err) {
    association.abort();
    await association.closed;
    throw err;
  }
}
