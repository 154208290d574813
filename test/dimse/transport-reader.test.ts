import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readTransport } from '../../src/dimse/transport-reader.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A loopback server whose accepted socket is handed to `onSocket`; resolves with a connected client. */
async function pair(onSocket: (socket: Socket) => void): Promise<Socket> {
  const server = createServer(onSocket);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
  return client;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('transport reader', () => {
  it('reads an accepted TCP socket into one reused buffer on this Node, every byte intact, then sees the close', async () => {
    const payload = randomBytes(5 * 1024 * 1024 + 17);
    const received: Buffer[] = [];
    const chunkBuffers = new Set<ArrayBuffer>();
    let reused: boolean | undefined;
    const closed = new Promise<void>((resolve) => {
      void pair((socket) => {
        reused = readTransport(socket, (chunk) => {
          chunkBuffers.add(chunk.buffer as ArrayBuffer);
          received.push(Buffer.from(chunk)); // the contract: copy what is kept
        });
        socket.on('close', () => resolve());
      }).then((client) => client.end(payload));
    });
    await closed;
    expect(reused).toBe(true);
    // Many reads, one backing buffer: nothing allocated per read.
    expect(received.length).toBeGreaterThan(1);
    expect(chunkBuffers.size).toBe(1);
    const all = Buffer.concat(received);
    expect(all.length).toBe(payload.length);
    expect(sha256(all)).toBe(sha256(payload));
  });

  it('stops delivering while the socket is paused and delivers the rest after resume()', async () => {
    const first = randomBytes(1000);
    const second = randomBytes(300_000);
    const received: Buffer[] = [];
    let accepted!: Socket;
    let onFirst!: () => void;
    const gotFirst = new Promise<void>((resolve) => (onFirst = resolve));
    const client = await pair((socket) => {
      accepted = socket;
      let pausedOnce = false;
      readTransport(socket, (chunk) => {
        received.push(Buffer.from(chunk));
        if (!pausedOnce && Buffer.concat(received).length >= first.length) {
          pausedOnce = true;
          socket.pause();
          onFirst();
        }
      });
    });
    client.write(first);
    await gotFirst;
    const before = Buffer.concat(received).length;
    client.write(second);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(Buffer.concat(received).length).toBe(before); // paused: nothing read meanwhile
    const done = new Promise<void>((resolve) => accepted.on('close', () => resolve()));
    accepted.resume();
    client.end();
    await done;
    expect(sha256(Buffer.concat(received))).toBe(sha256(Buffer.concat([first, second])));
  });

  it("falls back to 'data' events for a transport that is not a plain socket (TLS, a stream)", async () => {
    const stream = new PassThrough();
    const received: Buffer[] = [];
    expect(readTransport(stream, (chunk) => received.push(Buffer.from(chunk)))).toBe(false);
    stream.end(Buffer.from('not a socket'));
    await new Promise((resolve) => stream.on('end', resolve));
    expect(Buffer.concat(received).toString()).toBe('not a socket');
  });
});
