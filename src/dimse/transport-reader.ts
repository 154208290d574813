/**
 * Reads a transport's bytes into a callback, into one reused buffer when the
 * transport is a plain TCP socket.
 *
 * Why: a 'data' event costs Node a fresh 64 KiB buffer per read (allocated,
 * zero-filled, wrapped, then garbage collected). At DICOM rates (a CT image
 * is 0.5 MB, eight or more reads) that was a third of the receiver's CPU
 * time. Node's own remedy is the `onread` socket option (a user buffer the
 * kernel reads into), but it exists only for sockets we construct, not for
 * the ones a net.Server accepts; we apply the same mechanism to accepted
 * sockets: the socket's read callback slots (the symbols `onread` sets,
 * found on a probe socket) and `useUserBuffer` on its handle. Where any of
 * that is missing (TLS, another runtime, a future Node), the 'data' event is
 * used: same behaviour, more allocation. test/dimse/transport-reader.test.ts
 * checks that plain sockets do get the reused buffer on the running Node.
 *
 * The contract either way: a chunk is valid only during the callback; what
 * is kept must be copied (a 'data' chunk would allow more, the reused buffer
 * does not, so consumers are written for the latter).
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** The buffer every plain socket reads into: callbacks consume it synchronously, so one serves all. */
const SHARED_READ_BUFFER_BYTES = 256 * 1024;
let sharedBuffer: Buffer | undefined;

interface OnreadSlots {
  buffer: symbol;
  callback: symbol;
}

let slots: OnreadSlots | null | undefined;

/** The symbols under which net.Socket keeps an `onread` buffer and callback; null when this Node has none. */
function onreadSlots(): OnreadSlots | null {
  if (slots !== undefined) return slots;
  const marker = Buffer.alloc(1);
  const markerCallback = (): boolean => true;
  // `onread` is public API (net.Socket options); @types/node lacks it for the constructor.
  const probe = new Socket({ onread: { buffer: marker, callback: markerCallback } } as ConstructorParameters<typeof Socket>[0]);
  const own = probe as unknown as Record<symbol, unknown>;
  let buffer: symbol | undefined;
  let callback: symbol | undefined;
  for (const s of Object.getOwnPropertySymbols(probe)) {
    if (own[s] === marker) buffer = s;
    else if (own[s] === markerCallback) callback = s;
  }
  probe.destroy();
  slots = buffer && callback ? { buffer, callback } : null;
  return slots;
}

interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

function handleOf(transport: Duplex): UserBufferHandle | undefined {
  // A TLSSocket is a net.Socket too, but its reads are decrypted records: never the raw handle.
  if (Object.getPrototypeOf(transport) !== Socket.prototype) return undefined;
  const handle = (transport as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  return handle && typeof handle.useUserBuffer === 'function' ? (handle as UserBufferHandle) : undefined;
}

/**
 * Delivers the transport's bytes to `onChunk`; true when they come through
 * the reused buffer. Pause and resume with the transport's own pause()/resume()
 * (net.Socket stops and restarts reading the handle in both modes).
 */
export function readTransport(transport: Duplex, onChunk: (chunk: Buffer) => void): boolean {
  const found = onreadSlots();
  const handle = handleOf(transport);
  if (found && handle) {
    const buffer = (sharedBuffer ??= Buffer.allocUnsafe(SHARED_READ_BUFFER_BYTES));
    let switched = false;
    try {
      handle.useUserBuffer(buffer);
      switched = true;
    } catch {
      // Not supported by this handle after all: the 'data' path below.
    }
    if (switched) {
      // Synchronous with the switch: no read runs in between (reads happen on the event loop).
      const socket = transport as unknown as Record<symbol, unknown>;
      socket[found.buffer] = buffer;
      socket[found.callback] = (bytes: number, into: Buffer): undefined => {
        onChunk(into.subarray(0, bytes));
      };
      return true;
    }
  }
  transport.on('data', onChunk);
  return false;
}
