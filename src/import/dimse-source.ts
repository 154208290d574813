/**
 * `import dimse AET@HOST:PORT`: C-FIND SCU, Study Root (../dimse/find-scu.ts).
 * The listing is a STUDY-level query with the filters as matching keys
 * (one per --modality: Modalities in Study takes one value here as in
 * QIDO-RS); each study is then loaded on its own association: a
 * SERIES-level query, then an IMAGE-level query per series. Each instance's
 * record is built from the identifiers of its three levels merged into one
 * data set, read by the C-STORE reader: it has what C-FIND returned, and an
 * attribute the SCP did not return is absent (the merge then keeps what
 * C-STORE gave: absent-never-erases).
 */
import { createHash } from 'node:crypto';
import type { InstanceRecord } from '../dicom/instance-record.js';
import { DatasetError, DatasetHeaderSink } from '../dicom/dataset-sink.js';
import { mergeIdentifiers, textValue, type QueryKey } from '../dimse/c-find-identifier.js';
import { IMAGE_RETURN_KEYS, SERIES_RETURN_KEYS, STUDY_RETURN_KEYS, TAGS } from '../dimse/c-find-keys.js';
import { cFind, openFindAssociation, type FindScuOptions, type Identifier } from '../dimse/find-scu.js';
import type { ScuAssociation } from '../dimse/scu-association.js';
import type { ClientTlsOptions } from '../dimse/tls.js';
import { errorMessage } from '../errors.js';
import type { ImportFilters, ImportSource, SourceProblem, StudyWork } from './source.js';

export interface DimseSourceOptions {
  host: string;
  port: number;
  calledAeTitle: string;
  callingAeTitle: string;
  tls?: boolean | ClientTlsOptions;
  filters: ImportFilters;
  headerCapBytes: number;
  /** Maximum PDU length we announce (the SCP side's DICOM_MAX_PDU_LENGTH). */
  maxPduLength?: number;
  /** Connect, A-ASSOCIATE-AC / A-RELEASE-RP and each C-FIND response (default 30000). */
  timeoutMs?: number;
}

const withValue = (keys: readonly QueryKey[], values: Record<number, string | undefined>): QueryKey[] =>
  keys.map((k) => (values[k.tag] !== undefined ? { ...k, value: values[k.tag]! } : k));

export class DimseSource implements ImportSource {
  readonly runId: string;
  private readonly where: string;

  constructor(private readonly options: DimseSourceOptions) {
    this.where = `${options.calledAeTitle}@${options.host}:${options.port}`;
    this.runId = `dimse:${createHash('sha256').update(JSON.stringify([this.where, options.filters])).digest('hex').slice(0, 16)}`;
  }

  private scuOptions(): FindScuOptions {
    const t = this.options.timeoutMs ?? 30_000;
    return {
      host: this.options.host,
      port: this.options.port,
      callingAeTitle: this.options.callingAeTitle,
      calledAeTitle: this.options.calledAeTitle,
      ...(this.options.tls !== undefined ? { tls: this.options.tls } : {}),
      connectTimeoutMs: t,
      acseTimeoutMs: t,
      dimseTimeoutMs: t,
      ...(this.options.maxPduLength !== undefined ? { maxPduLength: this.options.maxPduLength } : {}),
    };
  }

  /** The STUDY-level queries of the filters: one per modality, else one. */
  private studyQueries(): QueryKey[][] {
    const f = this.options.filters;
    const values: Record<number, string | undefined> = {
      [TAGS.StudyInstanceUID]: f.studyInstanceUids.length > 0 ? f.studyInstanceUids.join('\\') : undefined,
      [TAGS.StudyDate]: f.since !== undefined || f.until !== undefined ? `${f.since ?? ''}-${f.until ?? ''}` : undefined,
      [TAGS.PatientID]: f.patientId,
    };
    if (f.modalities.length === 0) return [withValue(STUDY_RETURN_KEYS, values)];
    return f.modalities.map((m) => withValue(STUDY_RETURN_KEYS, { ...values, [TAGS.ModalitiesInStudy]: m }));
  }

  /** Whether a study answer passes the filters, where it carries the attribute (an SCP may not match an optional key). */
  private passes(study: Identifier): boolean {
    const f = this.options.filters;
    const uid = textValue(study, TAGS.StudyInstanceUID);
    if (f.studyInstanceUids.length > 0 && (uid === undefined || !f.studyInstanceUids.includes(uid))) return false;
    const date = textValue(study, TAGS.StudyDate);
    if (date !== undefined && /^\d{8}$/.test(date)) {
      if (f.since !== undefined && date < f.since) return false;
      if (f.until !== undefined && date > f.until) return false;
    }
    const patientId = textValue(study, TAGS.PatientID);
    if (f.patientId !== undefined && patientId !== undefined && patientId !== f.patientId) return false;
    const modalities = textValue(study, TAGS.ModalitiesInStudy)?.split('\\');
    if (f.modalities.length > 0 && modalities !== undefined && !modalities.some((m) => f.modalities.includes(m))) return false;
    return true;
  }

  async *studies(problem: (p: SourceProblem) => void, signal: AbortSignal): AsyncIterable<StudyWork> {
    let opened: { association: ScuAssociation; contextId: number };
    try {
      opened = await openFindAssociation(this.scuOptions());
    } catch (err) {
      problem({ subject: `C-FIND STUDY at ${this.where}`, reason: errorMessage(err) });
      return;
    }
    const { association, contextId } = opened;
    const seen = new Set<string>();
    try {
      for (const keys of this.studyQueries()) {
        if (signal.aborted) break;
        for await (const study of cFind(association, contextId, 'STUDY', keys, signal)) {
          const uid = textValue(study, TAGS.StudyInstanceUID);
          if (uid === undefined || seen.has(uid) || !this.passes(study)) continue;
          seen.add(uid);
          const count = Number(textValue(study, TAGS.NumberOfStudyRelatedInstances));
          yield {
            studyInstanceUid: uid,
            ...(Number.isInteger(count) && count > 0 ? { instances: count } : {}),
            load: () => this.load(study, uid, signal),
          };
          if (signal.aborted) break;
        }
      }
    } catch (err) {
      // The listing failed (a failure status, the association lost): the studies found so far go on.
      problem({ subject: `C-FIND STUDY at ${this.where}`, reason: errorMessage(err) });
    } finally {
      await this.finish(association);
    }
  }

  /** Release; abort when the association cannot release (after a failure). */
  private async finish(association: ScuAssociation): Promise<void> {
    try {
      await association.release();
    } catch {
      association.abort();
    }
    await association.closed;
  }

  /** SERIES level, then IMAGE level per series, on an association of the study's own. */
  private async load(study: Identifier, studyInstanceUid: string, signal: AbortSignal): Promise<InstanceRecord[]> {
    const { association, contextId } = await openFindAssociation(this.scuOptions());
    try {
      const seriesList: Identifier[] = [];
      const seriesKeys: QueryKey[] = [...SERIES_RETURN_KEYS, { tag: TAGS.StudyInstanceUID, vr: 'UI', value: studyInstanceUid }];
      for await (const series of cFind(association, contextId, 'SERIES', seriesKeys, signal)) seriesList.push(series);
      const receivedAt = new Date().toISOString();
      const transferSyntaxUid = association.transferSyntaxOf(contextId)!;
      const records: InstanceRecord[] = [];
      for (const series of seriesList) {
        const seriesInstanceUid = textValue(series, TAGS.SeriesInstanceUID);
        if (seriesInstanceUid === undefined) throw new Error(`a SERIES-level answer without Series Instance UID`);
        const keys: QueryKey[] = [
          ...IMAGE_RETURN_KEYS,
          { tag: TAGS.StudyInstanceUID, vr: 'UI', value: studyInstanceUid },
          { tag: TAGS.SeriesInstanceUID, vr: 'UI', value: seriesInstanceUid },
        ];
        for await (const image of cFind(association, contextId, 'IMAGE', keys, signal)) {
          records.push(await this.record([study, series, image], transferSyntaxUid, receivedAt));
        }
      }
      if (signal.aborted) throw new Error('interrupted');
      return records;
    } finally {
      await this.finish(association);
    }
  }

  private async record(levels: Identifier[], transferSyntaxUid: string, receivedAt: string): Promise<InstanceRecord> {
    const bytes = mergeIdentifiers(levels);
    const sink = new DatasetHeaderSink({ transferSyntaxUid, headerCapBytes: this.options.headerCapBytes });
    try {
      sink.write(bytes);
      return await sink.finish({
        source: 'c-find',
        callingAeTitle: this.options.calledAeTitle,
        calledAeTitle: this.options.callingAeTitle,
        peerAddress: this.options.host,
        peerPort: this.options.port,
        receivedAt,
      });
    } catch (err) {
      if (err instanceof DatasetError) throw new Error(`an IMAGE-level answer cannot be read: ${err.message}`);
      throw err;
    }
  }
}
