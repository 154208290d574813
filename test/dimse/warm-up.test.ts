import { describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { warmUpReceivePath } from '../../src/dimse/warm-up.js';
import { silentLogger, startScp } from './helpers.js';

const RECEIVE = { maxPduLength: 262_144, headerCapBytes: 1 << 20, artimTimeoutMs: 5_000, idleTimeoutMs: 30_000, messageTimeoutMs: 60_000, minTransferRate: 10_000 };

describe('receive path warm-up (in memory, before the SCP listens)', () => {
  it('takes every synthetic C-STORE as a sender’s: small and CT-sized data sets, each answered with success', async () => {
    const records: InstanceRecord[] = [];
    const result = await warmUpReceivePath(RECEIVE, silentLogger, { messages: 40, ctEvery: 4, timeoutMs: 10_000 }, async (record) => {
      records.push(record);
    });
    expect(result.messages).toBe(40);
    // The CT-sized request is encoded once and sent each time (number 4): the small ones are numbered as sent.
    expect(records.map((r) => r.instance.sopInstanceUid)).toEqual(Array.from({ length: 40 }, (_, i) => `2.25.${(i + 1) % 4 === 0 ? 4 : i + 1}`));
    // Every 4th has 512×512 16-bit pixel data spread over several PDUs: its record is made at the header, as a sender's.
    expect(records[3]!.receipt.bytesReceived).toBeLessThan(512 * 1024);
    expect(records[0]).toMatchObject({
      patient: { patientId: 'WARMUP' },
      study: { studyInstanceUid: '2.25.1', studyDate: '20240101' },
      series: { modality: 'CT', seriesInstanceUid: '2.25.1.2' },
      instance: { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: 1 },
      receipt: { callingAeTitle: 'WARM-UP' },
    });
  });

  it('keeps to a maximum PDU length below DCMTK’s 128 KiB (dicom.maxPduLength 16 KiB)', async () => {
    const result = await warmUpReceivePath({ ...RECEIVE, maxPduLength: 16_384 }, silentLogger, { messages: 10, ctEvery: 2, timeoutMs: 10_000 });
    expect(result.messages).toBe(10);
  });

  it('a store refusing the warm-up fails it with the status (the wrong code would be warmed)', async () => {
    await expect(
      warmUpReceivePath(RECEIVE, silentLogger, { messages: 3, ctEvery: 2, timeoutMs: 10_000 }, async () => ({ status: 0xa700, errorComment: 'no' })),
    ).rejects.toThrow('status a700H');
  });

  it('StorageScp.warmUp stores nothing and reports nothing: no record reaches the handler, no cStore event', async () => {
    const scp = await startScp();
    try {
      const events: unknown[] = [];
      scp.scp.on('cStore', (e) => events.push(e));
      scp.scp.on('associationAccepted', (e) => events.push(e));
      const result = await scp.scp.warmUp({ messages: 20, ctEvery: 5, timeoutMs: 10_000 });
      expect(result?.messages).toBe(20);
      expect(scp.records).toEqual([]);
      expect(events).toEqual([]);
    } finally {
      await scp.stop();
    }
  });
});
