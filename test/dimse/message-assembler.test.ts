import { describe, expect, it } from 'vitest';
import { COMMAND_SET_CAP_BYTES } from '../../src/dimse/constants.js';
import { encodeCommand, type DimseCommand } from '../../src/dimse/dimse-command.js';
import {
  MessageAssembler, WholeMessages, type DimseMessage, type MessageAssemblerUser, type MessageError,
} from '../../src/dimse/message-assembler.js';
import { messageControlHeader, messagePdvs, type Pdv } from '../../src/dimse/pdu.js';

const STORE_RQ: DimseCommand = {
  commandField: 0x0001, messageId: 7, priority: 0, commandDataSetType: 0x0000,
  affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2', affectedSopInstanceUid: '1.2.3.4.5',
};
const ECHO_RQ: DimseCommand = { commandField: 0x0030, messageId: 8, affectedSopClassUid: '1.2.840.10008.1.1', commandDataSetType: 0x0101 };
const FIND_RSP: DimseCommand = {
  commandField: 0x8020, messageIdBeingRespondedTo: 3, affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', commandDataSetType: 0x0000, status: 0xff00,
};

/** A data set of `n` bytes with a recognisable pattern. */
function dataSet(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

type Event =
  | { type: 'command'; contextId: number; command: DimseCommand }
  | { type: 'data'; data: Buffer; last: boolean }
  | { type: 'error'; error: MessageError };

/** An assembler whose user records what it hears; context ids 1 and 3 are accepted. */
function recorder(accepted: readonly number[] = [1, 3]) {
  const events: Event[] = [];
  const user: MessageAssemblerUser = {
    onCommand: (contextId, command) => events.push({ type: 'command', contextId, command }),
    onDataSetFragment: (data, last) => events.push({ type: 'data', data, last }),
    onMessageError: (error) => events.push({ type: 'error', error }),
  };
  const assembler = new MessageAssembler(user, (id) => accepted.includes(id));
  return { assembler, events };
}

/**
 * Feeds PDVs as the streaming reader hands them on: each PDV's data in
 * pieces of at most `piece` bytes, `pdvComplete` on the last piece.
 */
function feed(assembler: MessageAssembler, pdvs: readonly Pdv[], piece = Infinity): void {
  for (const pdv of pdvs) {
    const mch = messageControlHeader(pdv);
    if (pdv.data.length === 0) assembler.push(pdv.presentationContextId, mch, pdv.data, true);
    for (let off = 0; off < pdv.data.length; off += piece) {
      const end = Math.min(off + piece, pdv.data.length);
      assembler.push(pdv.presentationContextId, mch, pdv.data.subarray(off, end), end === pdv.data.length);
    }
  }
}

/** The PDVs of one message: command fragments to fit `maxPdu`, then the data set's. */
function message(contextId: number, command: DimseCommand, data: Buffer | undefined, maxPdu: number): Pdv[] {
  return [...messagePdvs(contextId, true, encodeCommand(command), maxPdu), ...(data ? messagePdvs(contextId, false, data, maxPdu) : [])];
}

const dataOf = (events: Event[]): Buffer => Buffer.concat(events.flatMap((e) => (e.type === 'data' ? [e.data] : [])));
const errorsOf = (events: Event[]): MessageError[] => events.flatMap((e) => (e.type === 'error' ? [e.error] : []));

describe('DIMSE message assembler (PS3.7 9.3.1, PS3.8 Annex E)', () => {
  it('round-trips a command without data set in one PDV', () => {
    const { assembler, events } = recorder();
    feed(assembler, message(1, ECHO_RQ, undefined, 0));
    expect(events).toEqual([{ type: 'command', contextId: 1, command: ECHO_RQ }]);
    expect(assembler.receiving).toBe(false);
  });

  it('round-trips a command and its data set whatever the PDU size and the pieces the reader cuts PDVs into', () => {
    const data = dataSet(10_000);
    for (const maxPdu of [0, 16_384, 1_000, 64, 7])
      for (const piece of [Infinity, 333, 5, 1]) {
        const { assembler, events } = recorder();
        feed(assembler, message(3, STORE_RQ, data, maxPdu), piece);
        const where = `max PDU ${maxPdu}, pieces of ${piece}`;
        expect(events[0], where).toEqual({ type: 'command', contextId: 3, command: STORE_RQ });
        expect(events.slice(1).every((e) => e.type === 'data'), where).toBe(true);
        expect(dataOf(events).equals(data), where).toBe(true);
        // last: on the final piece only
        expect(events.map((e) => e.type === 'data' && e.last), where).toEqual(events.map((_, i) => i === events.length - 1));
        expect(assembler.receiving, where).toBe(false);
      }
  });

  it('hands data set pieces on as views of the received bytes, not copies', () => {
    const { assembler, events } = recorder();
    const data = dataSet(4_096);
    const pdvs = message(1, STORE_RQ, data, 1_030);
    feed(assembler, pdvs);
    const fragments = events.flatMap((e) => (e.type === 'data' ? [e.data] : []));
    expect(fragments).toHaveLength(4);
    for (const f of fragments) expect(f.buffer).toBe(data.buffer);
  });

  it('is receiving from the first command fragment until the last data set piece', () => {
    const { assembler } = recorder();
    const [c1, c2, d1, d2] = message(1, STORE_RQ, dataSet(100), 6 + 60);
    const seen: boolean[] = [];
    for (const pdv of [c1!, c2!, d1!, d2!]) {
      feed(assembler, [pdv]);
      seen.push(assembler.receiving);
    }
    expect(seen).toEqual([true, true, true, false]);
  });

  it('takes messages back to back: with data set, without, with an empty data set', () => {
    const { assembler, events } = recorder();
    const data = dataSet(300);
    feed(assembler, [
      ...message(1, STORE_RQ, data, 128),
      ...message(3, ECHO_RQ, undefined, 128),
      ...message(1, { ...STORE_RQ, messageId: 9 }, Buffer.alloc(0), 128),
    ]);
    const commands = events.flatMap((e) => (e.type === 'command' ? [[e.contextId, e.command.messageId]] : []));
    expect(commands).toEqual([[1, 7], [3, 8], [1, 9]]);
    expect(events.at(-1)).toEqual({ type: 'data', data: Buffer.alloc(0), last: true });
    expect(dataOf(events).equals(data)).toBe(true);
    expect(errorsOf(events)).toEqual([]);
  });

  it('does not end a message on a last-fragment PDV until its final piece', () => {
    const { assembler, events } = recorder();
    const [command] = message(1, ECHO_RQ, undefined, 0);
    const bytes = command!.data;
    assembler.push(1, 0x03, bytes.subarray(0, 10), false);
    expect(events).toEqual([]);
    expect(assembler.receiving).toBe(true);
    assembler.push(1, 0x03, bytes.subarray(10), true);
    expect(events).toEqual([{ type: 'command', contextId: 1, command: ECHO_RQ }]);
  });

  describe('malformed sequences: one error, the message dropped, the assembler idle', () => {
    const cases: Array<[string, (a: MessageAssembler) => void, MessageError['kind']]> = [
      ['data before any command', (a) => feed(a, messagePdvs(1, false, dataSet(10), 0)), 'data-without-command'],
      ['data before the command set is complete', (a) => {
        const [c1] = message(1, STORE_RQ, undefined, 40);
        feed(a, [c1!, ...messagePdvs(1, false, dataSet(10), 0)]);
      }, 'data-without-command'],
      ['data after a command that announced no data set', (a) => feed(a, [...message(1, ECHO_RQ, undefined, 0), ...messagePdvs(1, false, dataSet(10), 0)]), 'data-without-command'],
      ['a second command in the middle of a data set', (a) => {
        const [d1] = messagePdvs(1, false, dataSet(100), 6 + 50);
        feed(a, [...messagePdvs(1, true, encodeCommand(STORE_RQ), 0), d1!, ...message(1, ECHO_RQ, undefined, 0)]);
      }, 'command-during-data-set'],
      ['command fragments on two presentation contexts', (a) => {
        const [c1, c2] = message(1, STORE_RQ, undefined, 40);
        feed(a, [c1!, { ...c2!, presentationContextId: 3 }]);
      }, 'command-context-changed'],
      ['a data set on another presentation context than its command', (a) => {
        feed(a, [...messagePdvs(1, true, encodeCommand(STORE_RQ), 0), ...messagePdvs(3, false, dataSet(10), 0)]);
      }, 'data-set-context-changed'],
      ['a PDV on a presentation context that was not accepted', (a) => feed(a, message(5, ECHO_RQ, undefined, 0)), 'context-not-accepted'],
      ['a command set that does not decode', (a) => feed(a, messagePdvs(1, true, Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0, 0]), 0)), 'bad-command-set'],
      ['a command set beyond the cap', (a) => {
        const chunk = Buffer.alloc(4096);
        for (let sent = 0; sent <= COMMAND_SET_CAP_BYTES; sent += chunk.length) a.push(1, 0x01, chunk, true);
      }, 'command-set-too-large'],
    ];
    for (const [name, send, kind] of cases)
      it(name, () => {
        const { assembler, events } = recorder();
        send(assembler);
        expect(errorsOf(events).map((e) => e.kind)).toEqual([kind]);
        expect(errorsOf(events)[0]!.detail).toMatch(/\w/);
        expect(assembler.receiving).toBe(false);
        // The next well-formed message is assembled again (the association aborts, but the assembler holds no stale state).
        events.length = 0;
        feed(assembler, message(1, ECHO_RQ, undefined, 0));
        expect(events).toEqual([{ type: 'command', contextId: 1, command: ECHO_RQ }]);
      });
  });

  it('reset() drops a message in progress', () => {
    const { assembler, events } = recorder();
    const [c1] = message(1, STORE_RQ, undefined, 40);
    feed(assembler, [c1!]);
    assembler.reset();
    expect(assembler.receiving).toBe(false);
    feed(assembler, message(1, ECHO_RQ, undefined, 0));
    expect(events).toEqual([{ type: 'command', contextId: 1, command: ECHO_RQ }]);
  });
});

describe('WholeMessages (the requestor: responses with their data sets)', () => {
  function whole(cap = 1 << 20) {
    const messages: DimseMessage[] = [];
    const errors: MessageError[] = [];
    const assembler = new MessageAssembler(
      new WholeMessages({ onMessage: (m) => messages.push(m), onMessageError: (e) => errors.push(e) }, cap),
      (id) => id === 1,
    );
    return { assembler, messages, errors };
  }

  it('hands on a response with its identifier data set, and one without at once', () => {
    const { assembler, messages, errors } = whole();
    const identifier = dataSet(2_000);
    feed(assembler, message(1, FIND_RSP, identifier, 512), 100);
    feed(assembler, message(1, { ...FIND_RSP, commandDataSetType: 0x0101, status: 0 }, undefined, 512));
    expect(errors).toEqual([]);
    expect(messages).toHaveLength(2);
    expect(messages[0]!.command).toEqual(FIND_RSP);
    expect(messages[0]!.dataSet!.equals(identifier)).toBe(true);
    expect(messages[1]).toEqual({ presentationContextId: 1, command: { ...FIND_RSP, commandDataSetType: 0x0101, status: 0 } });
  });

  it('copies the data set: the read buffer may be reused after each piece', () => {
    const { assembler, messages } = whole();
    const identifier = dataSet(300);
    const reused = Buffer.alloc(64);
    for (const pdv of message(1, FIND_RSP, identifier, 6 + 64)) {
      pdv.data.copy(reused);
      assembler.push(1, messageControlHeader(pdv), reused.subarray(0, pdv.data.length), true);
      reused.fill(0xee);
    }
    expect(messages[0]!.dataSet!.equals(identifier)).toBe(true);
  });

  it('refuses a data set beyond its cap once, and takes the next message', () => {
    const { assembler, messages, errors } = whole(1_000);
    feed(assembler, message(1, FIND_RSP, dataSet(5_000), 512));
    expect(errors.map((e) => e.kind)).toEqual(['data-set-too-large']);
    expect(messages).toEqual([]);
    feed(assembler, message(1, FIND_RSP, dataSet(10), 512));
    expect(messages).toHaveLength(1);
  });

  it('passes message errors on', () => {
    const { assembler, errors } = whole();
    feed(assembler, messagePdvs(1, false, dataSet(10), 0));
    expect(errors.map((e) => e.kind)).toEqual(['data-without-command']);
  });
});
