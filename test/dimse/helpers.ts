import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { StorageScp, type ScpOptions } from '../../src/dimse/scp.js';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';

export const PYDICOM_TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
export const CT_SMALL = `${PYDICOM_TEST_FILES}/CT_small.dcm`;
export const MR_SMALL = `${PYDICOM_TEST_FILES}/MR_small.dcm`;

export const silentLogger = pino({ level: 'silent' });

export interface TestScp {
  scp: StorageScp;
  /** The plain TCP port (NaN when plain is false). */
  port: number;
  /** The TLS port when `tls` is given. */
  tlsPort: number | undefined;
  records: InstanceRecord[];
  stop(): Promise<void>;
}

/** Starts a StorageScp on 127.0.0.1, port 0, AE BRIDGE, recording stored instances. */
export async function startScp(overrides: Partial<ScpOptions> = {}): Promise<TestScp> {
  const records: InstanceRecord[] = [];
  const scp = new StorageScp({
    host: '127.0.0.1',
    port: 0,
    aeTitles: ['BRIDGE'],
    maxAssociations: 8,
    maxPduLength: 262_144,
    headerCapBytes: 16 * 1024 * 1024,
    artimTimeoutMs: 5_000,
    idleTimeoutMs: 30_000,
    logger: silentLogger,
    onStore: async (record) => {
      records.push(record);
    },
    ...overrides,
  });
  const { port, tlsPort } = await scp.listen();
  return { scp, port: port ?? Number.NaN, tlsPort, records, stop: () => scp.close({ graceMs: 1_000 }) };
}

/** A raw TCP client collecting everything it receives until the server closes. */
export class RawClient {
  readonly socket: Socket;
  private chunks: Buffer[] = [];
  readonly closed: Promise<void>;
  private waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
      resolve();
    }));
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Waits until at least n bytes were received (or the socket closed). */
  async receive(n: number): Promise<Buffer> {
    while (this.received.length < n && !this.socket.destroyed && !this.socket.readableEnded) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.received;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

import { encodePdu, decodePdu, type AAssociateRq, type Pdu } from '../../src/dimse/pdu.js';
import { emptyUserInformation, type PresentationContextRq } from '../../src/dimse/pdu-items.js';

export const VERIFICATION = '1.2.840.10008.1.1';
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

export function associateRq(overrides: Partial<AAssociateRq> = {}, contexts?: PresentationContextRq[]): AAssociateRq {
  return {
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAeTitle: 'BRIDGE',
    callingAeTitle: 'RAW',
    applicationContextName: '1.2.840.10008.3.1.1.1',
    presentationContexts: contexts ?? [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
    userInformation: { ...emptyUserInformation(), maximumLength: 16384, implementationClassUid: '1.2.3.4', implementationVersionName: 'RAWTEST' },
    ...overrides,
  };
}

/** Reads complete PDUs from a raw byte stream (test side: whole PDUs, decoded). */
export function splitPdus(bytes: Buffer): Pdu[] {
  const out: Pdu[] = [];
  let off = 0;
  while (bytes.length - off >= 6) {
    const len = bytes.readUInt32BE(off + 2);
    if (bytes.length - off < 6 + len) break;
    out.push(decodePdu(bytes[off]!, bytes.subarray(off + 6, off + 6 + len)));
    off += 6 + len;
  }
  return out;
}

/** Connects, sends the A-ASSOCIATE-RQ and waits for the first answer PDU. */
export async function rawAssociate(port: number, rq: AAssociateRq = associateRq()): Promise<{ client: RawClient; answer: Pdu }> {
  const client = await RawClient.open(port);
  await client.write(encodePdu(rq));
  await client.receive(10);
  const total = 6 + client.received.readUInt32BE(2);
  const bytes = await client.receive(total);
  return { client, answer: splitPdus(bytes)[0]! };
}

/** Waits until `n` PDUs were received (or the socket closed) and returns them. */
export async function receivePdus(client: RawClient, n: number): Promise<Pdu[]> {
  for (;;) {
    const pdus = splitPdus(client.received);
    if (pdus.length >= n || client.socket.destroyed || client.socket.readableEnded) return pdus;
    await client.receive(client.received.length + 1);
  }
}
