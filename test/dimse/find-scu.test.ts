/**
 * The C-FIND SCU against DCMTK's dcmqrscp: pending responses then Success
 * at each level, C-CANCEL-RQ when the caller leaves early (the association
 * stays usable: the final response was awaited), a failure status as a
 * CFindError naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textValue } from '../../src/dimse/c-find-identifier.js';
import { IMAGE_RETURN_KEYS, STUDY_RETURN_KEYS, TAGS } from '../../src/dimse/c-find-keys.js';
import { CFindError, cFind, openFindAssociation } from '../../src/dimse/find-scu.js';
import { startDcmqrscp, type TestDcmqrscp } from '../support/dcmqrscp.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';

describe('C-FIND SCU against dcmqrscp', { timeout: 60_000 }, () => {
  let scp: TestDcmqrscp;
  const studies: GeneratedStudy[] = [];
  const open = () =>
    openFindAssociation({ host: '127.0.0.1', port: scp.port, callingAeTitle: 'FINDTEST', calledAeTitle: scp.aeTitle, connectTimeoutMs: 10_000, acseTimeoutMs: 10_000, dimseTimeoutMs: 10_000 });

  beforeAll(async () => {
    scp = await startDcmqrscp();
    for (let i = 0; i < 3; i++) {
      const study = await generateStudy({ series: 1, instances: 2, accession: `Q${i}` });
      studies.push(study);
      await scp.store(study.dir);
    }
  });
  afterAll(async () => {
    await scp?.stop();
    for (const s of studies) removeStudy(s.dir);
  });

  it('lists every study (STUDY level) and every image of a series (IMAGE level), then Success', async () => {
    const { association } = await open();
    const contextId = association.contextFor('1.2.840.10008.5.1.4.1.2.2.1')!.id;
    const found: string[] = [];
    for await (const id of cFind(association, contextId, 'STUDY', STUDY_RETURN_KEYS)) found.push(textValue(id, TAGS.StudyInstanceUID)!);
    expect(found.sort()).toEqual(studies.map((s) => s.studyInstanceUid).sort());
    const s = studies[0]!;
    const images: string[] = [];
    const keys = [...IMAGE_RETURN_KEYS, { tag: TAGS.StudyInstanceUID, vr: 'UI', value: s.studyInstanceUid }, { tag: TAGS.SeriesInstanceUID, vr: 'UI', value: s.series[0]!.seriesInstanceUid }];
    for await (const id of cFind(association, contextId, 'IMAGE', keys)) images.push(textValue(id, TAGS.SOPInstanceUID)!);
    expect(images.sort()).toEqual([...s.series[0]!.sopInstanceUids].sort());
    await association.release();
  });

  it('leaving after the first match sends C-CANCEL-RQ and awaits the final response: the association goes on', async () => {
    const { association, contextId } = await open();
    for await (const id of cFind(association, contextId, 'STUDY', STUDY_RETURN_KEYS)) {
      expect(textValue(id, TAGS.StudyInstanceUID)).toBeDefined();
      break;
    }
    let again = 0;
    for await (const _ of cFind(association, contextId, 'STUDY', STUDY_RETURN_KEYS)) again += 1;
    expect(again).toBe(3);
    await association.release();
    await scp.waitForOutput(/C-CANCEL-RQ|Cancel/);
    expect(scp.output()).toMatch(/C-CANCEL-RQ|Cancel/);
  });

  it('a failure status is a CFindError naming the status', async () => {
    const { association, contextId } = await open();
    // A SERIES-level query without the Study Instance UID of its study: dcmqrscp refuses it.
    const run = async () => {
      for await (const _ of cFind(association, contextId, 'SERIES', [{ tag: TAGS.SeriesInstanceUID, vr: 'UI' }]));
    };
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CFindError);
    expect((err as CFindError).message).toMatch(/^C-FIND SERIES failed with status [AC][0-9A-F]{3} \(/);
    await association.release();
  });
});
