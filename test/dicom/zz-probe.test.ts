import { readFileSync } from 'node:fs';
import { it } from 'vitest';
import { pino } from 'pino';
import { splitPart10 } from './support/part10.js';
import { DatasetHeaderSink } from '../../src/dicom/dataset-sink.js';
it('probe', async () => {
  for (const f of ['rtdose_rle_1frame.dcm', 'rtdose_rle.dcm']) {
  const p = splitPart10(readFileSync('/usr/lib/python3/dist-packages/pydicom/data/test_files/' + f));
  const sink = new DatasetHeaderSink({ transferSyntaxUid: p.transferSyntaxUid, headerCapBytes: 1e7, logger: pino({ level: 'debug' }) });
  sink.write(p.dataset);
  const rec = await sink.finish({ callingAeTitle: 'A', calledAeTitle: 'B', peerAddress: 'x', receivedAt: 'now' });
  console.log(JSON.stringify(rec, null, 1));
  }
});
