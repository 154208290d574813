/**
 * One HTTP exchange over a raw socket, for requests no HTTP client would
 * send: writes the bytes as given, reads the answer (interim 1xx answers
 * skipped), and tells whether the server answered, closed without an
 * answer, or said nothing at all.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  /** Status of the final answer; undefined when none came. */
  status?: number;
  /** The head of the final answer (status line and headers). */
  head?: string;
  /** How the exchange ended. */
  end: 'answered' | 'closed' | 'reset' | 'timeout';
}

export interface RawOptions {
  /**
   * Half-close after this long, so that the server sees the end of a request that never completes.
   * Only for those: a server may drop a pending answer when the client half-closes. Default: never.
   */
  endAfterMs?: number;
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
}

/** The final (non-1xx) answer's head in `data`, when it is complete. */
function finalHead(data: Buffer): { status: number; head: string } | undefined {
  let text = data.toString('latin1');
  for (;;) {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = text.slice(0, end);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!m) return { status: NaN, head };
    const status = Number(m[1]);
    if (status >= 200 || status < 100) return { status, head };
    text = text.slice(end + 4); // 100 Continue and other interim answers
  }
}

export function rawExchange(port: number, request: Buffer, options: RawOptions = {}): Promise<RawAnswer> {
  const endAfterMs = options.endAfterMs;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect(port, '127.0.0.1');
    const finish = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(endTimer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve(answer);
    };
    const answered = (): RawAnswer | undefined => {
      const head = finalHead(Buffer.concat(chunks));
      return head ? { ...head, end: 'answered' } : undefined;
    };
    const endTimer = endAfterMs === undefined ? undefined : setTimeout(() => socket.end(), endAfterMs);
    const giveUp = setTimeout(() => finish(answered() ?? { end: 'timeout' }), timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const a = answered();
      if (a) finish(a);
    });
    socket.on('error', () => finish(answered() ?? { end: 'reset' }));
    socket.on('close', () => finish(answered() ?? { end: 'closed' }));
  });
}
