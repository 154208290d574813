/**
 * A warm-up of the receive path at start, before the SCP listens (issue 20,
 * item 5: cold start). One association runs over an in-memory transport:
 * synthetic C-STOREs (small images, and CT-sized ones whose pixel data spans
 * several PDUs) go through the same code as a sender's (upper layer, message
 * assembly, the streaming header sink, the record extraction, the response),
 * with a store handler that keeps nothing. Nothing reaches the queue, the
 * store, the metrics or the logs of associations.
 *
 * Why: V8 interprets a function before it compiles it, and compiles it
 * optimised only after many calls. A restarted bridge took its first
 * instances at 0.74–0.80 of the rate it reached after a thousand (1,000 small
 * instances over one association against the next 1,000); the modality
 * sending then is the one that waits.
 */
import { Duplex } from 'node:stream';
import { encodeElement } from '../dicom/element-encoding.js';
import type { Logger } from 'pino';
import { type AssociationObserver, type AssociationOptions, Association } from './association.js';
import { CommandField, decodeCommand, encodeCommand, Status } from './dimse-command.js';
import { emptyUserInformation } from './pdu-items.js';
import { encodePDataTf, encodePdu, messagePdvs, PDU_HEADER_LENGTH, PDV_HEADER_LENGTH, PduType } from './pdu.js';
import type { StoreHandler } from './store-handler.js';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const AE_TITLE = 'WARM-UP';
/** DCMTK's largest PDU: what a storescu sends (less when the SCP announces less). */
const SENDER_PDU_BYTES = 128 * 1024;

export interface WarmUpPlan {
  /** Messages in all; every `ctEvery`-th has CT-sized pixel data (512×512, 512 KB), the others 64×64 (8 KB). */
  messages: number;
  ctEvery: number;
  /** Gives up (the association is aborted) after this long. */
  timeoutMs: number;
}

export const DEFAULT_WARM_UP: WarmUpPlan = { messages: 1500, ctEvery: 5, timeoutMs: 10_000 };

export interface WarmUpResult {
  messages: number;
  ms: number;
}

/** Runs the plan through an Association with these options (the SCP's own) and a store that keeps nothing. */
export function warmUpReceivePath(
  options: Omit<AssociationOptions, 'onStore' | 'aeTitles' | 'isCallerAllowed'>,
  logger: Logger,
  plan: WarmUpPlan = DEFAULT_WARM_UP,
  /** What receives the records: nothing keeps them (tests look at them). */
  onStore: StoreHandler = async () => undefined,
): Promise<WarmUpResult> {
  const started = performance.now();
  // A sender keeps to the maximum the SCP announced (dicom.maxPduLength may be below DCMTK's).
  const pduBytes = Math.min(SENDER_PDU_BYTES, options.maxPduLength);
  const small = { side: 64, data: Buffer.alloc(64 * 64 * 2) };
  // One CT-sized request, encoded once and sent again and again: 300 fresh 512 KB messages cost ~10 MB of peak memory.
  const ct = storeRequest(plan.ctEvery, { side: 512, data: Buffer.alloc(512 * 512 * 2) }, pduBytes);
  return new Promise<WarmUpResult>((resolve, reject) => {
    let sent = 0;
    let answered = 0;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve({ messages: answered, ms: Math.round(performance.now() - started) });
    };
    // In a later turn of the event loop, as from a socket: a push may deliver at once, inside the association's own write.
    const sendNext = (): void => {
      setImmediate(() => {
        if (settled) return;
        if (sent === plan.messages) {
          transport.push(encodePdu({ type: 'A-RELEASE-RQ' }));
          return;
        }
        sent++;
        for (const pdu of sent % plan.ctEvery === 0 ? ct : storeRequest(sent, small, pduBytes)) transport.push(pdu);
      });
    };
    // The association's writes are the acceptor's PDUs: each answer lets the next request go, as a sender waits.
    const transport = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        callback();
        switch (chunk[0]) {
          case PduType.AAssociateAc:
            sendNext();
            return;
          case PduType.PDataTf: {
            // A C-STORE-RSP in one PDV (PDU and PDV headers, then the command): anything but a success means
            // the synthetic data set is not what the receive path takes, and the warm-up warmed the wrong code.
            const status = decodeCommand(chunk.subarray(PDU_HEADER_LENGTH + PDV_HEADER_LENGTH)).status;
            if (status !== Status.Success) {
              finish(new Error(`warm-up C-STORE answered with status ${(status ?? 0).toString(16)}H`));
              return;
            }
            answered++;
            sendNext();
            return;
          }
          case PduType.AReleaseRp:
            transport.push(null);
            finish();
            return;
          default:
            finish(new Error(`warm-up association ended with PDU type 0x${(chunk[0] ?? 0).toString(16)}`));
        }
      },
    });
    const association = new Association(
      transport,
      { ...options, aeTitles: [AE_TITLE], onStore },
      NO_OBSERVER,
      logger,
    );
    const timer = setTimeout(() => {
      association.abort();
      finish(new Error(`warm-up not done within ${plan.timeoutMs} ms (${answered} of ${plan.messages} answered)`));
    }, plan.timeoutMs);
    association.start();
    transport.push(
      encodePdu({
        type: 'A-ASSOCIATE-RQ',
        protocolVersion: 1,
        calledAeTitle: AE_TITLE,
        callingAeTitle: AE_TITLE,
        applicationContextName: '1.2.840.10008.3.1.1.1',
        presentationContexts: [{ id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
        userInformation: { ...emptyUserInformation(), maximumLength: SENDER_PDU_BYTES },
      }),
    );
  });
}

const NO_OBSERVER: AssociationObserver = {
  isCongested: () => false,
  accepted: () => {},
  rejected: () => {},
  cStore: () => {},
  closed: () => {},
  slotFreed: () => {},
  released: () => {},
};

/** The PDUs of C-STORE-RQ number `n`: its command, then its data set in PDUs of a sender's size. */
function storeRequest(n: number, pixels: { side: number; data: Buffer }, pduBytes: number): Buffer[] {
  const sopInstanceUid = `2.25.${n}`;
  const command = encodeCommand({
    commandField: CommandField.C_STORE_RQ,
    messageId: n & 0xffff,
    affectedSopClassUid: CT_IMAGE_STORAGE,
    affectedSopInstanceUid: sopInstanceUid,
    priority: 0,
    commandDataSetType: 0x0000,
  });
  const dataSet = syntheticDataSet(n, sopInstanceUid, pixels);
  return [
    ...messagePdvs(1, true, command, pduBytes).map((pdv) => encodePDataTf({ type: 'P-DATA-TF', pdvs: [pdv] })),
    ...messagePdvs(1, false, dataSet, pduBytes).map((pdv) => encodePDataTf({ type: 'P-DATA-TF', pdvs: [pdv] })),
  ];
}

/** An explicit VR little endian CT data set with the attributes the record reads; no real patient. */
function syntheticDataSet(n: number, sopInstanceUid: string, pixels: { side: number; data: Buffer }): Buffer {
  const series = 1 + (n % 3);
  const text: [number, string, string][] = [
    [0x00080005, 'CS', 'ISO_IR 100'],
    [0x00080016, 'UI', CT_IMAGE_STORAGE],
    [0x00080018, 'UI', sopInstanceUid],
    [0x00080020, 'DA', '20240101'],
    [0x00080030, 'TM', '101500'],
    [0x00080050, 'SH', `WARMUP${n % 7}`],
    [0x00080060, 'CS', 'CT'],
    [0x00080090, 'PN', 'Referring^Warm'],
    [0x00081030, 'LO', 'Warm-up study'],
    [0x0008103e, 'LO', `Warm-up series ${series}`],
    [0x00100010, 'PN', 'Warm^Up'],
    [0x00100020, 'LO', 'WARMUP'],
    [0x00100030, 'DA', '19700101'],
    [0x00100040, 'CS', 'O'],
    [0x00180015, 'CS', 'CHEST'],
    [0x0020000d, 'UI', '2.25.1'],
    [0x0020000e, 'UI', `2.25.1.${series}`],
    [0x00200011, 'IS', String(series)],
    [0x00200013, 'IS', String(n)],
  ];
  const parts = text.map(([tag, vr, value]) => encodeElement(tag, vr, Buffer.from(value, 'latin1')));
  const us = (tag: number, value: number): Buffer => {
    const v = Buffer.alloc(2);
    v.writeUInt16LE(value);
    return encodeElement(tag, 'US', v);
  };
  parts.push(us(0x00280002, 1), us(0x00280010, pixels.side), us(0x00280011, pixels.side), us(0x00280100, 16));
  parts.push(encodeElement(0x7fe00010, 'OW', pixels.data));
  return Buffer.concat(parts);
}
