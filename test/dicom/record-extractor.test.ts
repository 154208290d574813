import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { DatasetHeaderSink } from '../../src/dicom/dataset-sink.js';
import type { InstanceRecord } from '../../src/dicom/instance-record.js';
import { EXPLICIT_LE, IMPLICIT_LE, el, encode, type Element, type Encoding } from './support/encode.js';

const receipt = {
  callingAeTitle: 'CT1',
  calledAeTitle: 'BRIDGE',
  peerAddress: '192.168.1.20',
  peerPort: 11112,
  receivedAt: '2026-03-04T05:06:07.089Z',
};

const code = (value: string, scheme: string, meaning: string): Element[] => [
  el(0x00080100, 'SH', value),
  el(0x00080102, 'SH', scheme),
  el(0x00080104, 'LO', meaning),
];

async function record(
  elements: Element[],
  enc: Encoding = EXPLICIT_LE,
  ts = '1.2.840.10008.1.2.1',
  logger?: Logger,
): Promise<InstanceRecord> {
  const sink = new DatasetHeaderSink({ transferSyntaxUid: ts, headerCapBytes: 1 << 20, ...(logger ? { logger } : {}) });
  sink.write(encode([...elements].sort((a, b) => a.tag - b.tag), enc));
  return sink.finish(receipt);
}

const required = (): Element[] => [
  el(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.4'),
  el(0x00080018, 'UI', '1.2.3.9'),
  el(0x0020000d, 'UI', '1.2.3'),
  el(0x0020000e, 'UI', '1.2.3.1'),
];

describe('record extraction', () => {
  it('fills every InstanceRecord field, trimmed, typed and grouped by level', async () => {
    const r = await record([
      ...required(),
      el(0x00080005, 'CS', 'ISO_IR 100'),
      el(0x00080020, 'DA', '20260304'),
      el(0x00080021, 'DA', '20260305'),
      el(0x00080030, 'TM', '101010.5 '),
      el(0x00080031, 'TM', '1011'),
      el(0x00080050, 'SH', ' ACC123 '),
      el(0x00080051, 'SQ', [[el(0x00400031, 'UT', 'HOSP'), el(0x00400032, 'UT', '1.2.3.99'), el(0x00400033, 'CS', 'ISO')]]),
      el(0x00080060, 'CS', 'MR'),
      el(0x00080090, 'PN', 'Ref^Doc^^Dr'),
      el(0x00080201, 'SH', '+0100'),
      el(0x00081030, 'LO', 'Brain MRI  '),
      el(0x00081032, 'SQ', [code('MRBR', 'L', 'MR Brain'), code('X1', '99LOCAL', 'Extra')]),
      el(0x0008103e, 'LO', 'T1 axial'),
      el(0x00081050, 'PN', 'Perf^One\\Perf^Two'),
      el(0x00081060, 'PN', 'Read^Er'),
      el(0x00081070, 'PN', 'Op^A'),
      el(0x00100010, 'PN', 'M\xfcller^J\xfcrgen '),
      el(0x00100020, 'LO', 'PID42'),
      el(0x00100021, 'LO', 'HOSP'),
      el(0x00100024, 'SQ', [[el(0x00400032, 'UT', '2.16.840.1.113883.3.42'), el(0x00400033, 'CS', 'ISO')]]),
      el(0x00100030, 'DA', '19700101'),
      el(0x00100040, 'CS', 'F '),
      el(0x00180015, 'CS', 'HEAD'),
      el(0x00200010, 'SH', 'S1'),
      el(0x00200011, 'IS', ' 7'),
      el(0x00200013, 'IS', '12'),
      el(0x00200060, 'CS', 'R'),
      el(0x00200062, 'CS', 'L'),
      el(0x00280008, 'IS', '1'),
      el(0x00321064, 'SQ', [code('RP1', 'L', 'Requested')]),
      el(0x0040100a, 'SQ', [code('R51.9', 'I10', 'Headache')]),
      el(0x00401002, 'LO', 'headache'),
      el(0x0040a043, 'SQ', [code('18748-4', 'LN', 'Diagnostic imaging report')]),
      el(0x00420010, 'ST', '  Title with leading spaces  '),
      el(0x00700080, 'CS', 'LABEL'),
    ]);
    expect(r).toEqual({
      specificCharacterSet: 'ISO_IR 100',
      patient: {
        patientName: { alphabetic: 'Müller^Jürgen' },
        patientId: 'PID42',
        issuerOfPatientId: 'HOSP',
        issuerOfPatientIdQualifiers: { universalEntityId: '2.16.840.1.113883.3.42', universalEntityIdType: 'ISO' },
        patientBirthDate: '19700101',
        patientSex: 'F',
      },
      study: {
        studyInstanceUid: '1.2.3',
        studyDate: '20260304',
        studyTime: '101010.5',
        timezoneOffsetFromUtc: '+0100',
        accessionNumber: 'ACC123',
        issuerOfAccessionNumber: { localNamespaceEntityId: 'HOSP', universalEntityId: '1.2.3.99', universalEntityIdType: 'ISO' },
        studyId: 'S1',
        studyDescription: 'Brain MRI',
        referringPhysicianName: { alphabetic: 'Ref^Doc^^Dr' },
        physiciansReadingStudy: [{ alphabetic: 'Read^Er' }],
        procedureCodes: [
          { codeValue: 'MRBR', codingSchemeDesignator: 'L', codeMeaning: 'MR Brain' },
          { codeValue: 'X1', codingSchemeDesignator: '99LOCAL', codeMeaning: 'Extra' },
        ],
        requestedProcedureCodes: [{ codeValue: 'RP1', codingSchemeDesignator: 'L', codeMeaning: 'Requested' }],
        reasonForRequestedProcedure: 'headache',
        reasonForRequestedProcedureCodes: [{ codeValue: 'R51.9', codingSchemeDesignator: 'I10', codeMeaning: 'Headache' }],
      },
      series: {
        seriesInstanceUid: '1.2.3.1',
        seriesNumber: 7,
        modality: 'MR',
        seriesDescription: 'T1 axial',
        bodyPartExamined: 'HEAD',
        laterality: 'R',
        imageLaterality: 'L',
        seriesDate: '20260305',
        seriesTime: '1011',
        performingPhysicianName: [{ alphabetic: 'Perf^One' }, { alphabetic: 'Perf^Two' }],
        operatorsName: [{ alphabetic: 'Op^A' }],
      },
      instance: {
        sopInstanceUid: '1.2.3.9',
        sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
        instanceNumber: 12,
        contentLabel: 'LABEL',
        documentTitle: '  Title with leading spaces',
        conceptNameCode: { codeValue: '18748-4', codingSchemeDesignator: 'LN', codeMeaning: 'Diagnostic imaging report' },
        numberOfFrames: 1,
        imageLaterality: 'L',
      },
      receipt: { ...receipt, transferSyntaxUid: '1.2.840.10008.1.2.1', bytesReceived: expect.any(Number) },
    });
  });

  it('leaves out empty values, invalid IS and empty sequences; never 0 or ""', async () => {
    const r = await record(
      [
        ...required(),
        el(0x00080050, 'SH', '  '),
        el(0x00081030, 'LO', ''),
        el(0x00081032, 'SQ', []),
        el(0x00100010, 'PN', '^^=='),
        el(0x00200011, 'IS', 'abc'),
        el(0x00200013, 'IS', '1.5 '),
      ],
      IMPLICIT_LE,
      '1.2.840.10008.1.2',
    );
    expect(r.study.accessionNumber).toBeUndefined();
    expect(r.study.studyDescription).toBeUndefined();
    expect(r.study.procedureCodes).toBeUndefined();
    expect(r.patient).toEqual({});
    expect(r.series).toEqual({ seriesInstanceUid: '1.2.3.1' });
    expect(r.instance.instanceNumber).toBeUndefined();
    expect('specificCharacterSet' in r).toBe(false);
  });

  it('decodes ISO 2022 IR 87 person names into the three groups (PS3.5 H.3.1)', async () => {
    // Yamada^Tarou=山田^太郎=やまだ^たろう, as in PS3.5 Annex H.
    const esc = (s: string) => Buffer.from(s.replace(/\$B/g, '\x1b$B').replace(/\(B/g, '\x1b(B'), 'latin1');
    const value = esc('Yamada^Tarou=$B;3ED(B^$BB@O:(B=$B$d$^$@(B^$B$?$m$&(B');
    const r = await record([...required(), el(0x00080005, 'CS', '\\ISO 2022 IR 87'), el(0x00100010, 'PN', value)]);
    expect(r.specificCharacterSet).toBe('\\ISO 2022 IR 87');
    expect(r.patient.patientName).toEqual({ alphabetic: 'Yamada^Tarou', ideographic: '山田^太郎', phonetic: 'やまだ^たろう' });
  });

  it('decodes UTF-8 (ISO_IR 192) multi-valued names', async () => {
    const r = await record([
      ...required(),
      el(0x00080005, 'CS', 'ISO_IR 192'),
      el(0x00081050, 'PN', Buffer.from('Wang^XiaoDong=王^小東\\Ølberg^Åse ', 'utf8')),
    ]);
    expect(r.series.performingPhysicianName).toEqual([{ alphabetic: 'Wang^XiaoDong', ideographic: '王^小東' }, { alphabetic: 'Ølberg^Åse' }]);
  });

  it('falls back to Latin-1 for an unknown character set, without failing', async () => {
    const r = await record([...required(), el(0x00080005, 'CS', 'ISO_IR 999'), el(0x00100010, 'PN', 'Gr\xfcn^Anna')]);
    expect(r.specificCharacterSet).toBe('ISO_IR 999');
    expect(r.patient.patientName).toEqual({ alphabetic: 'Grün^Anna' });
  });

  it('keeps the known terms of a partly unknown multi-valued character set', async () => {
    const r = await record([...required(), el(0x00080005, 'CS', 'ISO 2022 IR 100\\BOGUS'), el(0x00081030, 'LO', 'R\xe9sum\xe9')]);
    expect(r.study.studyDescription).toBe('Résumé');
  });

  it('takes the code value from Long Code Value (0008,0119) when (0008,0100) is absent', async () => {
    const r = await record([
      ...required(),
      el(0x0040a043, 'SQ', [[el(0x00080102, 'SH', 'SCT'), el(0x00080104, 'LO', 'Long'), el(0x00080119, 'UC', '1234567890123456789')]]),
    ]);
    expect(r.instance.conceptNameCode).toEqual({ codeValue: '1234567890123456789', codingSchemeDesignator: 'SCT', codeMeaning: 'Long' });
  });

  it('reads a raw dataset that happens to hold "DICM" at offset 128 (not a Part 10 preamble)', async () => {
    const before = encode(required().slice(0, 2), EXPLICIT_LE);
    const description = 'x'.repeat(128 - before.length - 8) + 'DICM and more';
    const bytes = encode([...required().slice(0, 2), el(0x00081030, 'LO', description), ...required().slice(2)], EXPLICIT_LE);
    expect(bytes.toString('latin1', 128, 132)).toBe('DICM');
    const sink = new DatasetHeaderSink({ transferSyntaxUid: '1.2.840.10008.1.2.1', headerCapBytes: 4096 });
    sink.write(bytes);
    const r = await sink.finish(receipt);
    expect(r.study.studyDescription).toBe(description);
    expect(r.study.studyInstanceUid).toBe('1.2.3');
  });

  it('reads a lone ISO 2022 IR 87 (non-conformant) as \\ISO 2022 IR 87: ASCII until an escape sequence', async () => {
    const esc = (t: string) => Buffer.from(t.replace(/\$B/g, '\x1b$B').replace(/\(B/g, '\x1b(B'), 'latin1');
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const r = await record(
      [
        ...required(),
        el(0x00080005, 'CS', 'ISO 2022 IR 87'),
        el(0x00100010, 'PN', esc('Yamada^Tarou=$B;3ED(B^$BB@O:(B=$B$d$^$@(B^$B$?$m$&(B')),
        el(0x00100020, 'LO', 'PID-12345'),
        el(0x00081030, 'LO', esc('CT $B;3ED(B')),
      ],
      EXPLICIT_LE,
      '1.2.840.10008.1.2.1',
      logger,
    );
    expect(r.specificCharacterSet).toBe('ISO 2022 IR 87');
    expect(r.patient).toEqual({ patientId: 'PID-12345', patientName: { alphabetic: 'Yamada^Tarou', ideographic: '山田^太郎', phonetic: 'やまだ^たろう' } });
    expect(r.study.studyDescription).toBe('CT 山田');
    expect(lines).toEqual([]);
  });

  it.each([
    ['ISO_IR 192', Buffer.from([0x50, 0x49, 0x44, 0xff, 0x34, 0x32]), 'PID\xff42', 'invalid UTF-8'],
    ['\\ISO 2022 IR 87', Buffer.from('PID\x1b(J42', 'latin1'), 'PID\x1b(J42', 'an escape sequence of no declared set'],
    ['\\ISO 2022 IR 87', Buffer.from('PID\x1b$B;', 'latin1'), 'PID\x1b$B;', 'half a JIS X 0208 character'],
  ])('keeps a Patient ID that does not decode cleanly (%s, %s) as its bytes, and logs the instance without patient data', async (charset, id, kept) => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const r = await record([...required(), el(0x00080005, 'CS', charset), el(0x00100020, 'LO', id), el(0x00100010, 'PN', 'Doe^Jane')], EXPLICIT_LE, '1.2.840.10008.1.2.1', logger);
    expect(r.patient.patientId).toBe(kept);
    expect(r.patient.patientName).toEqual({ alphabetic: 'Doe^Jane' });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: 40,
        sopInstanceUid: '1.2.3.9',
        specificCharacterSet: charset,
        attributes: ['PatientID'],
        msg: 'value not decodable with the Specific Character Set: kept as its bytes',
      }),
    ]);
    expect(lines.join('')).not.toMatch(/PID|Doe|Jane/);
  });
});
