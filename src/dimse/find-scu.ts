/**
 * C-FIND SCU (PS3.7 9.1.2 and 9.3.2), Study Root Query/Retrieve Information
 * Model – FIND, on the requestor side of the upper layer
 * (./scu-association.ts): a C-FIND-RQ with its identifier, then pending
 * responses (FF00, FF01) each with a matching identifier, then the final
 * response. When the caller stops early (the signal aborts, or it leaves the
 * loop), a C-CANCEL-RQ goes out and the final response (FE00 Cancel, or
 * the one already under way) is awaited before the association is used
 * again. A failure status is a CFindError whose message says which
 * (A700, A900, Cxxx ...) with the SCP's Error Comment.
 */
import { encodeIdentifier, splitIdentifier, type QueryKey, type QueryLevel } from './c-find-identifier.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './constants.js';
import { CommandField, NO_DATA_SET } from './dimse-command.js';
import { AssociationError, ScuAssociation, type ScuAssociationOptions } from './scu-association.js';

/** Study Root Query/Retrieve Information Model – FIND (PS3.4 C.6.2.1). */
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';

/** Any data set type other than 0101H says a data set follows (PS3.7 E.1); 0000H is what most peers send. */
const DATA_SET_PRESENT = 0x0000;
const PRIORITY_MEDIUM = 0x0000;

export const FindStatus = {
  Success: 0x0000,
  Pending: 0xff00,
  PendingWarning: 0xff01,
  Cancel: 0xfe00,
} as const;

/** PS3.4 C.4.1.1.4 (Table C.4-1) and PS3.7 C: the meaning of a C-FIND failure status. */
export function findStatusText(status: number): string {
  if (status === 0xa700) return 'Refused: Out of Resources';
  if (status === 0xa900) return 'Identifier does not match SOP Class';
  if (status === 0x0122) return 'SOP Class not supported';
  if (status === 0x0124) return 'Refused: not authorized';
  if (status === 0x0211) return 'Unrecognized operation';
  if (status >= 0xc000 && status <= 0xcfff) return 'Unable to process';
  if (status >= 0xa000 && status <= 0xafff) return 'Refused';
  return 'failure';
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/** A C-FIND ended with a failure status (or an answer that is no C-FIND-RSP). */
export class CFindError extends Error {
  override name = 'CFindError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type FindScuOptions = Omit<ScuAssociationOptions, 'presentationContexts'>;

/** Opens an association proposing Study Root FIND in Explicit and Implicit VR Little Endian. */
export async function openFindAssociation(options: FindScuOptions): Promise<{ association: ScuAssociation; contextId: number }> {
  const association = await ScuAssociation.open({
    ...options,
    presentationContexts: [{ abstractSyntax: STUDY_ROOT_FIND, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }],
  });
  const context = association.contextFor(STUDY_ROOT_FIND);
  if (context === undefined) {
    const why = association.resultTextFor(STUDY_ROOT_FIND);
    association.abort();
    await association.closed;
    throw new AssociationError(
      'not-accepted',
      `${options.calledAeTitle}@${options.host}:${options.port} did not accept Study Root Query/Retrieve – FIND (${why})`,
    );
  }
  return { association, contextId: context.id };
}

export type Identifier = ReturnType<typeof splitIdentifier>;

/**
 * One C-FIND at `level`: yields each matching identifier (split into its
 * elements) as its pending response comes. Completes on Success; throws
 * CFindError on a failure status. Leaving early or `signal` aborting sends
 * C-CANCEL-RQ and waits for the final response; the generator then ends.
 */
export async function* cFind(
  association: ScuAssociation,
  contextId: number,
  level: QueryLevel,
  keys: readonly QueryKey[],
  signal?: AbortSignal,
): AsyncGenerator<Identifier, void, undefined> {
  const transferSyntax = association.transferSyntaxOf(contextId) ?? EXPLICIT_VR_LITTLE_ENDIAN;
  const messageId = association.nextMessageId();
  const identifier = encodeIdentifier(level, keys, transferSyntax);
  let final = false;
  let cancelled = false;
  const cancel = (): void => {
    if (cancelled || final) return;
    cancelled = true;
    association.sendCommand(contextId, { commandField: CommandField.C_CANCEL_RQ, messageIdBeingRespondedTo: messageId, commandDataSetType: NO_DATA_SET });
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    let message = await association.exchange(
      contextId,
      { commandField: CommandField.C_FIND_RQ, messageId, affectedSopClassUid: STUDY_ROOT_FIND, priority: PRIORITY_MEDIUM, commandDataSetType: DATA_SET_PRESENT },
      identifier,
    );
    for (;;) {
      const { command } = message;
      if (command.commandField !== (CommandField.C_FIND_RQ | 0x8000) || command.status === undefined)
        throw new CFindError(`unexpected answer to C-FIND-RQ: command field 0x${hex4(command.commandField)}`);
      const status = command.status;
      if (status === FindStatus.Pending || status === FindStatus.PendingWarning) {
        // After a cancel, pending answers still under way are dropped.
        if (!cancelled && message.dataSet !== undefined) yield splitIdentifier(message.dataSet, transferSyntax);
        if (signal?.aborted) cancel();
        message = await association.nextResponse();
        continue;
      }
      final = true;
      if (status === FindStatus.Success || status === FindStatus.Cancel) return;
      // Warnings (0001, Bxxx) end the query as a success with what came.
      if (status === 0x0001 || (status >= 0xb000 && status <= 0xbfff)) return;
      const comment = command.errorComment ? `: ${command.errorComment}` : '';
      throw new CFindError(`C-FIND ${level} failed with status ${hex4(status)} (${findStatusText(status)})${comment}`, status);
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    if (!final) {
      // The caller left before the final response (or the signal aborted): cancel and drain to it.
      cancel();
      try {
        for (;;) {
          const { command } = await association.nextResponse();
          if (command.status !== FindStatus.Pending && command.status !== FindStatus.PendingWarning) break;
        }
      } catch {
        // The association failed meanwhile: nothing left to wait for.
      }
    }
  }
}
