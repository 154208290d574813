/**
 * Issue 21 item 2: a deflate flood. A C-STORE in Deflated Explicit VR Little
 * Endian of about 1 GB compressed (generated on the fly, never stored) is
 * inflated as it arrives, under flow control, only up to the end of the
 * header: RSS stays bounded, the instance is stored, and when the peer goes
 * away mid-upload the bridge stops spending CPU on it.
 *
 * The stream is one compressed block repeated: each block is made by a fresh
 * compressor ended with a full flush, so it refers to nothing before it and
 * the concatenation is a valid raw deflate stream.
 */
import { readFile } from 'node:fs/promises';
import { constants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { associateRq, cStoreRq, CT_IMAGE_STORAGE, ctDataSet, DEFLATED_EXPLICIT_LE, isCommand, pdata, RawPeer } from './hostile-dicom-peer.js';

const UPLOAD_BYTES = Number(process.env.HOSTILE_DEFLATE_BYTES ?? 1024 * 1024 * 1024);
const RSS_GROWTH_LIMIT = 200 * 1024 * 1024;
const ROOT = '1.2.826.0.1.3680043.8.498.2122';
const PLAIN_BLOCK = 1024 * 1024;
const PDV_BYTES = 200_000;

/** 1 MiB of 2-bit noise: compressible about 3:1, not a trivial run. */
function noise(): Buffer {
  const b = Buffer.alloc(PLAIN_BLOCK);
  let x = 0x2545f491;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0x03;
  }
  return b;
}

const flushed = (bytes: Buffer): Buffer => deflateRawSync(bytes, { level: 1, finishFlush: constants.Z_FULL_FLUSH });
const block = flushed(noise());
const repeats = Math.ceil(UPLOAD_BYTES / block.length);

/** The data set's header (up to and with a Pixel Data element header of repeats MiB), deflated and flushed. */
function deflatedHeader(n: string): Buffer {
  const withEmptyPixels = ctDataSet({ study: `${ROOT}.${n}.1`, series: `${ROOT}.${n}.2`, sop: `${ROOT}.${n}.3` }, Buffer.alloc(0));
  const header = withEmptyPixels.subarray(0, withEmptyPixels.length - 12); // tag, OB, reserved, length 0
  const pixels = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0, 0, 0, 0]);
  pixels.writeUInt32LE(repeats * PLAIN_BLOCK, 8);
  return flushed(Buffer.concat([header, pixels]));
}

async function rssOf(pid: number): Promise<number> {
  const kb = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) * 1024 : Number.NaN;
}

/** CPU time of the process so far, in clock ticks (utime + stime, /proc/PID/stat fields 14 and 15). */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Sends the C-STORE: command, deflated header, then the repeated block until
 * `stopAfter` compressed bytes (or the end, with the final deflate block).
 * Samples the bridge's RSS; stops early when it grew past the limit.
 */
async function upload(bridge: BridgeProcess, peer: RawPeer, n: string, stopAfter = Number.POSITIVE_INFINITY): Promise<{ sent: number; rssGrowth: number }> {
  const pid = bridge.child.pid!;
  const rssAtStart = await rssOf(pid);
  let rssMax = rssAtStart;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssMax = Math.max(rssMax, await rssOf(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await peer.write(pdata(1, true, true, cStoreRq(1, CT_IMAGE_STORAGE, `${ROOT}.${n}.3`)));
  let sent = 0;
  const send = async (bytes: Buffer, last: boolean): Promise<void> => {
    for (let off = 0; off < bytes.length; off += PDV_BYTES) {
      const end = Math.min(bytes.length, off + PDV_BYTES);
      await peer.write(pdata(1, false, last && end === bytes.length, bytes.subarray(off, end)));
    }
    sent += bytes.length;
  };
  await send(deflatedHeader(n), false);
  for (let i = 0; i < repeats && sent < stopAfter && !peer.isClosed && rssMax - rssAtStart < RSS_GROWTH_LIMIT; i++) await send(block, false);
  if (sent < stopAfter && !peer.isClosed) await send(deflateRawSync(Buffer.alloc(0)), true); // the final block
  sampling = false;
  await sampler;
  return { sent, rssGrowth: rssMax - rssAtStart };
}

describe('deflate flood (issue 21.2)', () => {
  let bridge: BridgeProcess;
  beforeAll(async () => {
    bridge = await startBridgeProcess({ env: { LOG_LEVEL: 'info', PUBLISH_DEBOUNCE_MS: '100' } });
  });
  afterAll(async () => {
    await bridge?.stop();
    bridge?.cleanup();
  });

  const contexts = [{ id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [DEFLATED_EXPLICIT_LE] }];

  it(`stores a ~${Math.round(UPLOAD_BYTES / 2 ** 20)} MiB deflated C-STORE with bounded RSS, inflating only its header`, { timeout: 180_000 }, async () => {
    const peer = await RawPeer.open(bridge.dicomPort);
    const ac = await peer.associate(associateRq(bridge.aeTitle, contexts, 'MODALITY'));
    expect(ac?.type).toBe('A-ASSOCIATE-AC');
    const seen = peer.pdus.length;
    const { sent, rssGrowth } = await upload(bridge, peer, '1');
    console.info(`deflate flood: ${Math.round(sent / 2 ** 20)} MiB compressed sent (${repeats} MiB inflated), RSS grew by ${Math.round(rssGrowth / 2 ** 20)} MiB`);
    expect(rssGrowth, `RSS grew by ${Math.round(rssGrowth / 2 ** 20)} MiB`).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(sent).toBeGreaterThanOrEqual(UPLOAD_BYTES);
    const rsp = await peer.response(seen, 60_000);
    expect(isCommand(rsp) && rsp.status).toBe(0x0000);
    await peer.release();
    const study = await eventually(async () => {
      const answer = await bridge.get(`/studies/${ROOT}.1.1`);
      return answer.status === 200 ? answer.body : undefined;
    });
    expect(study.numberOfInstances).toBe(1);
  });

  it('stops spending CPU once the peer went away mid-upload', { timeout: 180_000 }, async () => {
    const peer = await RawPeer.open(bridge.dicomPort);
    const ac = await peer.associate(associateRq(bridge.aeTitle, contexts, 'MODALITY'));
    expect(ac?.type).toBe('A-ASSOCIATE-AC');
    const { rssGrowth } = await upload(bridge, peer, '2', UPLOAD_BYTES / 4);
    peer.destroy();
    expect(rssGrowth).toBeLessThan(RSS_GROWTH_LIMIT);
    // The association ends with the socket (loopback: at once); then 2 s of the bridge's CPU time, well under a core.
    await new Promise((r) => setTimeout(r, 1_000));
    const pid = bridge.child.pid!;
    const before = await cpuTicks(pid);
    await new Promise((r) => setTimeout(r, 2_000));
    const ticks = (await cpuTicks(pid)) - before;
    console.info(`deflate flood: ${ticks} clock ticks of CPU in the 2 s after the peer left`);
    expect(ticks, `${ticks} clock ticks (1/100 s) of CPU in 2 s after the close`).toBeLessThan(50);
  });
});
