/**
 * The copy of the rejections that the SCP's check reads (keys.ts
 * InstanceStreamKeys.rejected): each study's rejections hash lives in the
 * study's slot, the instances stream in its own, and one script may touch one
 * slot only. The study's hash stays the record the merge obeys; the copy is
 * written after it (the note's batch is acknowledged only after both, so a
 * crash between them repeats both), and built from the study hashes once when
 * missing (data written before the copy existed).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { instanceStreamKeys } from './keys.js';
import { loadLuaScript, runLuaScript } from './lua-script.js';

const COPY = loadLuaScript(new URL('./lua/', import.meta.url), 'copy-rejections-1.lua');

/** Copies `sopUid → value` pairs of one study (values as in its rejections hash); latest rejection wins. */
export async function copyRejections(client: Redis, prefix: string, studyUid: string, values: Map<string, string>): Promise<void> {
  if (values.size === 0) return;
  const args: string[] = [studyUid];
  for (const [sop, value] of values) args.push(sop, value);
  await runLuaScript(client, COPY, [instanceStreamKeys(prefix).rejected], args);
}

/** The copy's field of an instance; '' when a UID is missing (nothing to look up). */
export function rejectedField(studyUid: string | undefined, sopUid: string | undefined): string {
  return studyUid && sopUid ? `${studyUid}\t${sopUid}` : '';
}

/**
 * Builds the copy from every study's rejections hash (SCAN) unless it is
 * marked built. Until then a re-sent instance rejected before the upgrade may
 * be queued and answered success: the merge still keeps it out.
 */
export async function buildRejectedCopy(client: Redis, prefix: string, logger: Logger): Promise<void> {
  const keys = instanceStreamKeys(prefix);
  try {
    if ((await client.exists(keys.rejectedBuilt)) === 1) return;
    let cursor = '0';
    let studies = 0;
    const tagStart = prefix.length + 2;
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}:{*}:rejections`, 'COUNT', 500);
      cursor = next;
      for (const key of found) {
        const studyUid = key.slice(tagStart, key.length - '}:rejections'.length);
        await copyRejections(client, prefix, studyUid, new Map(Object.entries(await client.hgetall(key))));
        studies += 1;
      }
    } while (cursor !== '0');
    await client.set(keys.rejectedBuilt, new Date().toISOString());
    if (studies > 0) logger.info({ studies }, 'rejections copied for the receivers\' check');
  } catch (err) {
    logger.warn({ err: errorMessage(err) }, 'rejections not copied yet; retried at the next connection');
  }
}
