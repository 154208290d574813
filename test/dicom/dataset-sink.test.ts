import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DatasetError, DatasetHeaderSink } from '../../src/dicom/dataset-sink.js';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, el, encode, fragments, seededRandom, type Element, type Encoding } from './support/encode.js';

const IMPLICIT = '1.2.840.10008.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const BIG = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

const receipt = {
  callingAeTitle: 'MODALITY',
  calledAeTitle: 'BRIDGE',
  peerAddress: '10.0.0.7',
  peerPort: 104,
  receivedAt: '2026-01-01T12:00:00.000Z',
};

const uids = (): Element[] => [
  el(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
  el(0x00080018, 'UI', '1.2.3.4.5.6.7'),
  el(0x0020000d, 'UI', '1.2.3.4'),
  el(0x0020000e, 'UI', '1.2.3.4.5'),
];

/** Icon Image Sequence (0088,0200), undefined lengths, with its own Pixel Data. */
const iconSequence = (): Element =>
  el(
    0x00880200,
    'SQ',
    [[el(0x00280010, 'US', Buffer.from([4, 0])), el(0x7fe00010, 'OB', Buffer.alloc(16, 0x55))]],
    { undefinedLength: true, undefinedItems: true },
  );

function sortByTag(elements: Element[]): Element[] {
  return [...elements].sort((a, b) => a.tag - b.tag);
}

function sink(transferSyntaxUid: string, headerCapBytes = 1 << 20): DatasetHeaderSink {
  return new DatasetHeaderSink({ transferSyntaxUid, headerCapBytes });
}

async function feedAll(bytes: Buffer, transferSyntaxUid: string, seed = 1, max = 97): Promise<{ s: DatasetHeaderSink; record: InstanceRecord }> {
  const s = sink(transferSyntaxUid);
  for (const f of fragments(bytes, seededRandom(seed), 1, max)) s.write(f);
  return { s, record: await s.finish(receipt) };
}

const ENCODINGS: [string, Encoding][] = [
  [IMPLICIT, IMPLICIT_LE],
  [EXPLICIT, EXPLICIT_LE],
  [BIG, EXPLICIT_BE],
];

describe('DatasetHeaderSink: header and pixel data', () => {
  it.each(ENCODINGS)('%s: keeps exactly the bytes before top-level Pixel Data, counts all', async (ts, enc) => {
    const header = encode(sortByTag([...uids(), iconSequence(), el(0x00280008, 'IS', '3 ')]), enc);
    const pixels = encode([el(0x7fe00010, 'OW', Buffer.alloc(300_000, 0xab))], enc);
    for (const seed of [1, 2, 3]) {
      const { s, record } = await feedAll(Buffer.concat([header, pixels]), ts, seed, 5000);
      expect(s.keptBytes).toBe(header.length);
      expect(s.bytesReceived).toBe(header.length + pixels.length);
      expect(record.receipt.bytesReceived).toBe(header.length + pixels.length);
      expect(record.instance.numberOfFrames).toBe(3);
    }
  });

  it('walks byte by byte: the Icon Image Sequence pixel data is not the top-level one', async () => {
    const header = encode(sortByTag([...uids(), iconSequence()]), EXPLICIT_LE);
    const pixels = encode([el(0x7fe00010, 'OB', Buffer.alloc(1000, 1))], EXPLICIT_LE);
    const { s, record } = await feedAll(Buffer.concat([header, pixels]), EXPLICIT, 9, 1);
    expect(s.keptBytes).toBe(header.length);
    expect(record.instance.sopInstanceUid).toBe('1.2.3.4.5.6.7');
  });

  it('skips encapsulated Pixel Data fragments and trailing padding (JPEG Baseline)', async () => {
    const header = encode(sortByTag(uids()), EXPLICIT_LE);
    const tail = encode(
      [
        el(0x7fe00010, 'OB', Buffer.alloc(0), { fragments: [Buffer.alloc(0), Buffer.alloc(40_000, 0xff), Buffer.alloc(12, 0xd9)] }),
        el(0xfffcfffc, 'OB', Buffer.alloc(64)),
      ],
      EXPLICIT_LE,
    );
    const { s } = await feedAll(Buffer.concat([header, tail]), JPEG_BASELINE, 4, 3000);
    expect(s.keptBytes).toBe(header.length);
    expect(s.bytesReceived).toBe(header.length + tail.length);
  });

  it('keeps a dataset without pixel data whole (SR)', async () => {
    const content = el(0x0040a730, 'SQ', [[el(0x0040a010, 'CS', 'CONTAINS'), el(0x0040a040, 'CS', 'TEXT'), el(0x0040a160, 'UT', 'x'.repeat(501))]], {
      undefinedLength: true,
    });
    const bytes = encode(sortByTag([...uids(), content]), EXPLICIT_LE);
    const { s } = await feedAll(bytes, EXPLICIT, 5, 40);
    expect(s.keptBytes).toBe(bytes.length);
  });

  it('treats Float Pixel Data (7FE0,0008) as the end of the header', async () => {
    const header = encode(sortByTag(uids()), EXPLICIT_LE);
    const pixels = encode([el(0x7fe00008, 'OF', Buffer.alloc(4096))], EXPLICIT_LE);
    const { s } = await feedAll(Buffer.concat([header, pixels]), EXPLICIT, 6, 100);
    expect(s.keptBytes).toBe(header.length);
  });

  it('walks an undefined-length UN sequence (implicit VR inside)', async () => {
    const un = el(0x00091010, 'UN', [[el(0x00100010, 'PN', 'Inner^Name')]], { undefinedLength: true, undefinedItems: true });
    const header = encode(sortByTag([...uids(), el(0x00090010, 'LO', 'PRIVATE'), un]), EXPLICIT_LE);
    const pixels = encode([el(0x7fe00010, 'OW', Buffer.alloc(64))], EXPLICIT_LE);
    const { s } = await feedAll(Buffer.concat([header, pixels]), EXPLICIT, 8, 7);
    expect(s.keptBytes).toBe(header.length);
  });

  it('reads elements of known tags encoded UN with the VR of their tag (PS3.5 6.2.2, pydicom rtdose_rle.dcm)', async () => {
    const unUids = [
      el(0x00080016, 'UN', Buffer.from('1.2.840.10008.5.1.4.1.1.481.2\0', 'latin1')),
      el(0x00080018, 'UN', Buffer.from('1.2.3.4.5.6.7\0', 'latin1')),
      el(0x00080060, 'UN', Buffer.from('RTDOSE', 'latin1')),
      el(0x0020000d, 'UI', '1.2.3.4'),
      el(0x0020000e, 'UI', '1.2.3.4.5'),
    ];
    const { record } = await feedAll(encode(unUids, EXPLICIT_LE), EXPLICIT, 9, 11);
    expect(record.instance).toMatchObject({ sopClassUid: '1.2.840.10008.5.1.4.1.1.481.2', sopInstanceUid: '1.2.3.4.5.6.7' });
    expect(record.series.modality).toBe('RTDOSE');
  });

  it('inflates a deflated dataset incrementally and keeps the inflated header', async () => {
    const header = encode(sortByTag([...uids(), iconSequence(), el(0x00100010, 'PN', 'Doe^Jane')]), EXPLICIT_LE);
    const pixels = encode([el(0x7fe00010, 'OW', Buffer.alloc(200_000, 7))], EXPLICIT_LE);
    const deflated = deflateRawSync(Buffer.concat([header, pixels]));
    const { s, record } = await feedAll(deflated, DEFLATED, 12, 333);
    expect(s.keptBytes).toBe(header.length);
    expect(s.bytesReceived).toBe(deflated.length);
    expect(record.receipt.transferSyntaxUid).toBe(DEFLATED);
    expect(record.patient.patientName).toEqual({ alphabetic: 'Doe^Jane' });
  });
});

describe('DatasetHeaderSink: errors', () => {
  it('throws A700 from write when the header exceeds the cap, then ignores writes', async () => {
    const bytes = encode(sortByTag([...uids(), el(0x00081030, 'LO', 'x'.repeat(64)), el(0x00204000, 'LT', 'y'.repeat(4000))]), EXPLICIT_LE);
    const s = sink(EXPLICIT, 1024);
    const parts = [...fragments(bytes, seededRandom(3), 100, 300)];
    let thrown: unknown;
    let thrownAt = -1;
    parts.forEach((part, i) => {
      try {
        s.write(part);
      } catch (error) {
        thrown ??= error;
        if (thrownAt < 0) thrownAt = i;
      }
    });
    expect(thrown).toBeInstanceOf(DatasetError);
    expect((thrown as DatasetError).status).toBe(0xa700);
    expect((thrown as DatasetError).message).toBe('header exceeds 1024 bytes');
    expect(thrownAt).toBeLessThan(parts.length - 1);
    expect(s.keptBytes).toBe(0);
    expect(s.bytesReceived).toBe(bytes.length);
    await expect(s.finish(receipt)).rejects.toMatchObject({ status: 0xa700 });
  });

  it('reports the cap for a deflated dataset too', async () => {
    const bytes = deflateRawSync(encode(sortByTag([...uids(), el(0x00204000, 'LT', 'z'.repeat(8000))]), EXPLICIT_LE));
    const s = sink(DEFLATED, 2048);
    for (const f of fragments(bytes, seededRandom(2), 10, 50)) {
      try {
        s.write(f);
      } catch {
        // reported once by write when the inflater has got that far; finish reports it in any case
      }
    }
    await expect(s.finish(receipt)).rejects.toMatchObject({ status: 0xa700, message: 'header exceeds 2048 bytes' });
  });

  it.each([
    ['Study Instance UID (0020,000D)', 0x0020000d],
    ['Series Instance UID (0020,000E)', 0x0020000e],
    ['SOP Instance UID (0008,0018)', 0x00080018],
    ['SOP Class UID (0008,0016)', 0x00080016],
  ])('missing %s gives C000', async (name, tag) => {
    const bytes = encode(uids().filter((e) => e.tag !== tag), EXPLICIT_LE);
    await expect(feedAll(bytes, EXPLICIT)).rejects.toMatchObject({ status: 0xc000, message: `missing ${name}` });
  });

  it('an empty UID counts as missing', async () => {
    const bytes = encode(uids().map((e) => (e.tag === 0x0020000e ? el(e.tag, 'UI', '') : e)), EXPLICIT_LE);
    await expect(feedAll(bytes, EXPLICIT)).rejects.toMatchObject({ status: 0xc000, message: 'missing Series Instance UID (0020,000E)' });
  });

  it.each([
    ['inside an element value', 7],
    ['inside an element header', 3],
  ])('a dataset truncated %s gives C000, not a half record', async (_where, cut) => {
    const header = encode(sortByTag([...uids(), el(0x00100010, 'PN', 'Doe^John')]), EXPLICIT_LE);
    await expect(feedAll(header.subarray(0, header.length - cut), EXPLICIT)).rejects.toMatchObject({
      status: 0xc000,
      message: expect.stringMatching(/^cannot parse dataset: truncated/),
    });
  });

  it('truncated inside an undefined-length sequence gives C000', async () => {
    const bytes = encode(sortByTag([...uids(), iconSequence()]), IMPLICIT_LE);
    await expect(feedAll(bytes.subarray(0, bytes.length - 8), IMPLICIT)).rejects.toMatchObject({ status: 0xc000 });
  });

  it('truncated pixel data gives C000', async () => {
    const bytes = encode(sortByTag([...uids(), el(0x7fe00010, 'OW', Buffer.alloc(1000))]), EXPLICIT_LE);
    await expect(feedAll(bytes.subarray(0, bytes.length - 10), EXPLICIT)).rejects.toMatchObject({ status: 0xc000 });
  });

  it('garbage (no valid VR) gives C000 with a short message', async () => {
    const bytes = Buffer.concat([encode(uids(), EXPLICIT_LE), Buffer.from('\x10\x00\x10\x00??\x04\x00abcd', 'latin1')]);
    const error = (await feedAll(bytes, EXPLICIT).catch((e: unknown) => e)) as DatasetError;
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.status).toBe(0xc000);
    expect(error.message.length).toBeLessThanOrEqual(64);
  });

  it('an element overrunning its defined-length item gives C000', async () => {
    const item = Buffer.from([0xfe, 0xff, 0x00, 0xe0, 10, 0, 0, 0]); // (FFFE,E000), length 10
    const inner = encode([el(0x00080100, 'SH', 'ABCD')], EXPLICIT_LE); // 12 bytes: 2 past the item's end
    const seqDelimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const seqHeader = Buffer.from([0x08, 0x00, 0x32, 0x10, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff]); // (0008,1032) SQ, undefined
    const bytes = Buffer.concat([encode(uids().slice(0, 2), EXPLICIT_LE), seqHeader, item, inner, seqDelimiter, encode(uids().slice(2), EXPLICIT_LE)]);
    await expect(feedAll(bytes, EXPLICIT)).rejects.toMatchObject({ status: 0xc000, message: expect.stringMatching(/^cannot parse dataset: /) });
  });

  it('a corrupt deflate stream gives C000', async () => {
    const bytes = deflateRawSync(encode(uids(), EXPLICIT_LE));
    await expect(feedAll(Buffer.concat([bytes.subarray(0, 20), Buffer.alloc(40, 0xff)]), DEFLATED)).rejects.toMatchObject({ status: 0xc000 });
  });
});
