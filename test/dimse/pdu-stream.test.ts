import { describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/dimse/pdu.js';
import { PduStreamReader, type PduStreamHandler } from '../../src/dimse/pdu-stream.js';

interface Seen { pdus: Array<[number, number]>; pdvs: Array<{ id: number; mch: number; data: Buffer }>; errors: string[] }

function reader(limits = { maxPDataLength: 1 << 16, maxOtherPduLength: 1 << 16 }) {
  const seen: Seen = { pdus: [], pdvs: [], errors: [] };
  let current: Buffer[] = [];
  const handler: PduStreamHandler = {
    onPdu: (type, body) => seen.pdus.push([type, body.length]),
    onPDataStart: () => true,
    onPdvData: (id, mch, data, complete) => {
      current.push(Buffer.from(data));
      if (complete) {
        seen.pdvs.push({ id, mch, data: Buffer.concat(current) });
        current = [];
      }
    },
    onStreamError: (message) => seen.errors.push(message),
  };
  return { r: new PduStreamReader(limits, handler), seen };
}

const stream = Buffer.concat([
  encodePdu({ type: 'A-RELEASE-RQ' }),
  encodePdu({ type: 'P-DATA-TF', pdvs: [
    { presentationContextId: 1, isCommand: true, isLast: true, data: Buffer.from('command-bytes') },
    { presentationContextId: 3, isCommand: false, isLast: false, data: Buffer.alloc(1000, 7) },
  ] }),
  encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 3, isCommand: false, isLast: true, data: Buffer.alloc(0) }] }),
  encodePdu({ type: 'A-ABORT', source: 0, reason: 0 }),
]);

describe('streaming PDU reader', () => {
  it('gives the same PDUs and PDVs whatever the chunk boundaries', () => {
    const whole = reader();
    whole.r.push(stream);
    expect(whole.seen.errors).toEqual([]);
    expect(whole.seen.pdus).toEqual([[5, 4], [7, 4]]);
    expect(whole.seen.pdvs.map((p) => [p.id, p.mch, p.data.length])).toEqual([[1, 3, 13], [3, 0, 1000], [3, 2, 0]]);
    for (const size of [1, 2, 5, 6, 7, 13, 64, 999]) {
      const split = reader();
      for (let off = 0; off < stream.length; off += size) split.r.push(stream.subarray(off, off + size));
      expect(split.seen).toEqual(whole.seen);
    }
  });

  it('keeps bytes queued while paused intact when the pushed buffer is reused afterwards', () => {
    // The transport reader pushes one reused read buffer: whatever the reader queues must be a copy.
    const seen: Buffer[] = [];
    let pausedOnce = false;
    const r: PduStreamReader = new PduStreamReader({ maxPDataLength: 1 << 16, maxOtherPduLength: 1 << 16 }, {
      onPdu: () => undefined,
      onPDataStart: () => true,
      onStreamError: (message) => seen.push(Buffer.from(`error ${message}`)),
      onPdvData: (_id, _mch, data, complete) => {
        seen.push(Buffer.from(data));
        if (complete && !pausedOnce) {
          pausedOnce = true;
          r.pause();
        }
      },
    });
    const pdu = (fill: number) => encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand: false, isLast: true, data: Buffer.alloc(100, fill) }] });
    const readBuffer = Buffer.alloc(1024);
    const first = Buffer.concat([pdu(1), pdu(2)]);
    first.copy(readBuffer);
    r.push(readBuffer.subarray(0, first.length)); // pauses after the first PDV; the second is queued
    const second = pdu(3);
    second.copy(readBuffer); // the transport reuses its buffer for the next read
    r.push(readBuffer.subarray(0, second.length)); // arrives while paused: queued too
    readBuffer.fill(0xee);
    expect(seen.map((b) => b[0])).toEqual([1]);
    r.resume();
    expect(seen.map((b) => [b.length, b[0], b[99]])).toEqual([[100, 1, 1], [100, 2, 2], [100, 3, 3]]);
  });

  it('hands PDV data on as views of the received chunk, not copies', () => {
    const views: Buffer[] = [];
    const r = new PduStreamReader({ maxPDataLength: 1 << 16, maxOtherPduLength: 1024 }, {
      onPdu: () => undefined, onPDataStart: () => true, onStreamError: () => undefined,
      onPdvData: (_id, _mch, data) => views.push(data),
    });
    const chunk = encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand: false, isLast: true, data: Buffer.alloc(4000, 1) }] });
    r.push(chunk);
    expect(views).toHaveLength(1);
    expect(views[0]!.buffer).toBe(chunk.buffer);
  });

  it('reports a P-DATA-TF longer than announced from its header alone', () => {
    const { r, seen } = reader({ maxPDataLength: 16384, maxOtherPduLength: 1024 });
    r.push(Buffer.from([0x04, 0, 0x7f, 0xff, 0xff, 0xff]));
    expect(seen.errors).toEqual([expect.stringContaining('exceeds the announced maximum 16384')]);
    r.push(Buffer.alloc(100_000));
    expect(seen.pdvs).toEqual([]);
  });

  it('reports unknown PDU types and PDVs that overrun their PDU', () => {
    const a = reader();
    a.r.push(Buffer.from('GET / HTTP/1.1'));
    expect(a.seen.errors).toEqual([expect.stringContaining('unrecognized PDU type 0x47')]);
    const b = reader();
    b.r.push(Buffer.from([0x04, 0, 0, 0, 0, 8, 0, 0, 0, 9, 1, 0, 0, 0]));
    expect(b.seen.errors).toEqual([expect.stringContaining('does not fit')]);
  });

  it('stops after the callback that pauses and delivers the rest of the chunk on resume', () => {
    const delivered: string[] = [];
    const r: PduStreamReader = new PduStreamReader({ maxPDataLength: 1 << 16, maxOtherPduLength: 1024 }, {
      onPdu: (type) => delivered.push(`pdu ${type}`),
      onPDataStart: () => true,
      onStreamError: () => undefined,
      onPdvData: (id, _mch, _data, complete) => {
        if (!complete) return;
        delivered.push(`pdv ${id}`);
        if (id === 1) r.pause();
      },
    });
    r.push(stream);
    expect(delivered).toEqual(['pdu 5', 'pdv 1']);
    r.push(encodePdu({ type: 'A-RELEASE-RP' }));
    expect(delivered).toEqual(['pdu 5', 'pdv 1']);
    r.resume();
    expect(delivered).toEqual(['pdu 5', 'pdv 1', 'pdv 3', 'pdv 3', 'pdu 7', 'pdu 6']);
  });
});
