/**
 * The admin console's StudyStore methods on Redis (see study-store.ts, "the
 * admin console"). The search runs on an index of its own beside the state
 * index (keys.ts searchIndexKeys, tag `{index}`): all studies by last
 * received, by study date, and the studies of each accession number and
 * patient ID, with each study's indexed terms, so that a removal knows what
 * to remove. One script (lua/search-studies-8.lua) reads a page of it.
 *
 * Like the state index, it is written after the study's own script (the
 * study's keys live in another slot): sync() re-reads the study and repeats
 * until index and study agree, so concurrent writers converge. An index
 * missing (a store written before this index existed) is built from the
 * study hashes by the first search (`built` marks it done).
 *
 * The publish history is one list per study, in the study's slot, trimmed
 * to PUBLISH_HISTORY_LIMIT with the push (MULTI).
 */
import { storedAttributes } from './attribute-lists.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PersonName } from '../../dicom/attribute-values.js';
import { distinctModalities, normalizeSearch, studyDateOf } from '../study-search.js';
import {
  PUBLISH_HISTORY_LIMIT,
  type PageRequest,
  type PublishAttempt,
  type PublishState,
  type PublishStatus,
  type StudyListing,
  type StudyPage,
  type StudySearch,
} from '../study-store.js';
import { publishHistoryKey, searchIndexKeys, stateIndexKey, studyKeyPattern, studyKeys, type SearchIndexKeys } from './keys.js';
import { loadLuaScript, runLuaScript } from './lua-script.js';
import { PUBLISH_STATES } from './study-scripts.js';

const LUA = new URL('./lua/', import.meta.url);
const SCRIPTS = {
  put: loadLuaScript(LUA, 'search-index-put-5.lua'),
  search: loadLuaScript(LUA, 'search-studies-8.lua'),
};

/** What the index is built from, in the study hash. */
const SOURCE_FIELDS = ['lastReceivedAt', 'patient', 'study'] as const;
const LISTING_FIELDS = ['firstReceivedAt', 'lastReceivedAt', 'state', 'attempts', 'lastError', 'note', 'publishedAt', 'resourceId', 'patient', 'study', 'callingAe'] as const;

/** A value the index can hold: a NUL separates value and UID in the lexicographic sets. */
const indexable = (value: unknown): string => (typeof value === 'string' && !value.includes('\0') ? value : '');

/** A study hash's patient/study field: an attribute list (./attribute-lists.ts) or JSON stored before lists. */
function parseObject(stored: string | null | undefined): Record<string, unknown> {
  if (!stored) return {};
  try {
    const value: unknown = storedAttributes(stored);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export class RedisStudySearch {
  private readonly keys: SearchIndexKeys;
  private building: Promise<void> | undefined;

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.keys = searchIndexKeys(prefix);
  }

  /** Brings the study's index entry in line with its study hash (absent hash: out of the index). */
  async sync(studyInstanceUid: string): Promise<void> {
    const studyKey = studyKeys(this.prefix, studyInstanceUid).study;
    let source = await this.client.hmget(studyKey, ...SOURCE_FIELDS);
    for (let round = 0; round < 10; round += 1) {
      await this.put(studyInstanceUid, source);
      const now = await this.client.hmget(studyKey, ...SOURCE_FIELDS);
      if (now.every((v, i) => v === source[i])) return;
      source = now;
    }
    this.logger.warn({ studyUid: studyInstanceUid }, 'search index of a study kept changing; left for the next update');
  }

  private async put(uid: string, [lastReceivedAt, patientJson, studyJson]: (string | null)[]): Promise<void> {
    const k = this.keys;
    const keys = [k.terms, k.received, k.studyDate, k.accession, k.patientId];
    if (lastReceivedAt === null || lastReceivedAt === undefined) {
      await runLuaScript(this.client, SCRIPTS.put, keys, [uid, '0', '0', '', '', '']);
      return;
    }
    const patient = parseObject(patientJson);
    const study = parseObject(studyJson);
    const ms = Date.parse(lastReceivedAt);
    await runLuaScript(this.client, SCRIPTS.put, keys, [
      uid,
      '1',
      Number.isFinite(ms) ? ms : 0,
      indexable(study.accessionNumber),
      indexable(patient.patientId),
      studyDateOf(typeof study.studyDate === 'string' ? study.studyDate : undefined) ?? '',
    ]);
  }

  /**
   * Indexes every study of the store (SCAN of the study hashes) and takes
   * out the entries of studies no longer there; returns the number indexed.
   */
  async rebuild(): Promise<number> {
    const seen = new Set<string>();
    const tagStart = this.prefix.length + 2;
    let cursor = '0';
    do {
      const [next, found] = await this.client.scan(cursor, 'MATCH', studyKeyPattern(this.prefix), 'COUNT', 500);
      cursor = next;
      const uids = found.map((key) => key.slice(tagStart, key.length - '}:study'.length)).filter((uid) => !seen.has(uid));
      for (const uid of uids) seen.add(uid);
      await Promise.all(uids.map((uid) => this.sync(uid)));
    } while (cursor !== '0');
    cursor = '0';
    do {
      const [next, flat] = await this.client.hscan(this.keys.terms, cursor, 'COUNT', 500);
      cursor = next;
      const orphans = flat.filter((_, i) => i % 2 === 0).filter((uid) => !seen.has(uid));
      await Promise.all(orphans.map((uid) => this.sync(uid)));
    } while (cursor !== '0');
    return seen.size;
  }

  /** Builds the index once when the store has none yet (each process checks once). */
  private ensureBuilt(): Promise<void> {
    this.building ??= (async () => {
      if ((await this.client.exists(this.keys.built)) === 1) return;
      const started = Date.now();
      const count = await this.rebuild();
      await this.client.set(this.keys.built, new Date().toISOString());
      this.logger.info({ studies: count, durationMs: Date.now() - started }, 'study search index built');
    })().catch((err: unknown) => {
      this.building = undefined; // tried again by the next search
      throw err;
    });
    return this.building;
  }

  async search(search: StudySearch, page: PageRequest): Promise<StudyPage> {
    await this.ensureBuilt();
    const { search: s, page: p } = normalizeSearch(search, page);
    const k = this.keys;
    const ms = (iso: string | undefined) => (iso === undefined ? '' : String(Date.parse(iso)));
    const reply = (await runLuaScript(
      this.client,
      SCRIPTS.search,
      [k.terms, k.received, k.studyDate, k.accession, k.patientId, ...PUBLISH_STATES.map((state) => stateIndexKey(this.prefix, state))],
      [
        s.studyInstanceUid ?? '',
        s.accessionNumber ?? '',
        s.patientId ?? '',
        s.state ?? '',
        s.studyDateFrom ?? '',
        s.studyDateTo ?? '',
        ms(s.receivedFrom),
        ms(s.receivedBefore),
        p.offset,
        p.limit,
      ],
    )) as [number, string[]];
    const [total, uids] = reply;
    const listings = await Promise.all(uids.map((uid) => this.listing(uid)));
    // A study removed between the script and this read is left out of the page.
    return { total, studies: listings.filter((l): l is StudyListing => l !== undefined) };
  }

  private async listing(uid: string): Promise<StudyListing | undefined> {
    const k = studyKeys(this.prefix, uid);
    const replies = await this.client.pipeline().hmget(k.study, ...LISTING_FIELDS).hlen(k.seriesSizes).hlen(k.instances).hvals(k.series).exec();
    if (replies === null) throw new Error('redis pipeline aborted');
    for (const [err] of replies) if (err) throw err;
    const [fields, numberOfSeries, numberOfInstances, series] = replies.map(([, v]) => v) as [(string | null)[], number, number, string[]];
    const f = Object.fromEntries(LISTING_FIELDS.map((name, i) => [name, fields[i] ?? undefined])) as Record<(typeof LISTING_FIELDS)[number], string | undefined>;
    if (f.lastReceivedAt === undefined) return undefined;
    const publish: PublishStatus = { state: (f.state ?? 'pending') as PublishState, attempts: Number.parseInt(f.attempts ?? '0', 10) };
    if (f.lastError !== undefined) publish.lastError = f.lastError;
    if (f.note !== undefined) publish.note = f.note;
    if (f.publishedAt !== undefined) publish.publishedAt = f.publishedAt;
    if (f.resourceId !== undefined) publish.resourceId = f.resourceId;
    const patient = parseObject(f.patient);
    const study = parseObject(f.study);
    // Series values are `receivedAt \t seriesJson`.
    const modalities = distinctModalities(series.map((v) => parseObject(v.slice(v.indexOf('\t') + 1)).modality as string | undefined));
    const listing: StudyListing = {
      studyInstanceUid: uid,
      numberOfSeries,
      numberOfInstances,
      firstReceivedAt: f.firstReceivedAt ?? f.lastReceivedAt,
      lastReceivedAt: f.lastReceivedAt,
      publish,
      modalities,
    };
    if (typeof patient.patientId === 'string') listing.patientId = patient.patientId;
    if (patient.patientName !== undefined) listing.patientName = patient.patientName as PersonName;
    if (typeof study.accessionNumber === 'string') listing.accessionNumber = study.accessionNumber;
    if (typeof study.studyDate === 'string') listing.studyDate = study.studyDate;
    if (typeof study.studyDescription === 'string') listing.studyDescription = study.studyDescription;
    if (f.callingAe) listing.callingAeTitle = f.callingAe;
    return listing;
  }

  async record(studyInstanceUid: string, attempt: PublishAttempt): Promise<void> {
    const key = publishHistoryKey(this.prefix, studyInstanceUid);
    const replies = await this.client.multi().lpush(key, JSON.stringify(attempt)).ltrim(key, 0, PUBLISH_HISTORY_LIMIT - 1).exec();
    for (const [err] of replies ?? []) if (err) throw err;
  }

  async history(studyInstanceUid: string): Promise<PublishAttempt[]> {
    const items = await this.client.lrange(publishHistoryKey(this.prefix, studyInstanceUid), 0, PUBLISH_HISTORY_LIMIT - 1);
    return items.map((item) => JSON.parse(item) as PublishAttempt);
  }
}
