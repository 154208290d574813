/**
 * `import dicomweb BASE-URL`: QIDO-RS SearchForStudies (PS3.18 10.6) with the
 * filters as query keys, page by page (limit/offset), then per study WADO-RS
 * Retrieve Study Metadata, `/studies/{uid}/metadata` (PS3.18 10.4): the whole
 * header of every instance, never pixel data. Each instance goes through
 * the C-STORE reader (./dicom-json.ts). Auth: a bearer token or basic
 * credentials; TLS as for the FHIR client (fhir-client/tls.ts).
 */
import { createHash } from 'node:crypto';
import { errorMessage } from '../errors.js';
import { tlsFetch, type FhirTlsConfig } from '../fhir-client/tls.js';
import { dicomJsonRecord, isDicomJsonDataset, type DicomJsonDataset } from './dicom-json.js';
import type { ImportFilters, ImportSource, SourceProblem, StudyWork } from './source.js';

export interface DicomwebSourceOptions {
  /** e.g. http://pacs:8042/dicom-web (no trailing slash). */
  baseUrl: string;
  filters: ImportFilters;
  /** Authorization header value (Bearer … or Basic …). */
  authorization?: string;
  tls?: FhirTlsConfig;
  headerCapBytes: number;
  /** QIDO-RS page size. */
  pageSize?: number;
  timeoutMs?: number;
}

/** The source answered, but not as DICOMweb should; or did not answer. */
export class DicomwebError extends Error {
  override name = 'DicomwebError';
}

const ACCEPT = 'application/dicom+json, application/json;q=0.9';

const first = (ds: DicomJsonDataset, tag: string): unknown => ds[tag]?.Value?.[0];

export class DicomwebSource implements ImportSource {
  readonly runId: string;
  private readonly fetch: typeof fetch;
  private readonly closeFetch: (() => Promise<void>) | undefined;

  constructor(private readonly options: DicomwebSourceOptions) {
    this.runId = `dicomweb:${createHash('sha256').update(JSON.stringify([options.baseUrl, options.filters])).digest('hex').slice(0, 16)}`;
    const tls = tlsFetch(options.tls);
    this.fetch = tls?.fetch ?? fetch;
    this.closeFetch = tls?.close;
  }

  async close(): Promise<void> {
    await this.closeFetch?.();
  }

  /** GET a DICOM JSON array; 204 is an empty one. Throws DicomwebError with a one-line reason. */
  private async getJson(path: string, signal: AbortSignal): Promise<unknown[]> {
    const url = `${this.options.baseUrl}${path}`;
    let res: Response;
    try {
      const headers: Record<string, string> = { accept: ACCEPT };
      if (this.options.authorization) headers.authorization = this.options.authorization;
      res = await this.fetch(url, { headers, signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 60_000)]) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new DicomwebError(`cannot reach ${this.options.baseUrl} (${cause?.code ?? cause?.message ?? errorMessage(err)})`);
    }
    const pathOnly = path.split('?')[0];
    if (res.status === 204) return [];
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new DicomwebError(`GET ${pathOnly}: HTTP ${res.status} (${res.status === 401 ? 'credentials missing or refused: --token-file or --basic-auth-file' : 'not allowed for these credentials'})`);
    }
    if (!res.ok) throw new DicomwebError(`GET ${pathOnly}: HTTP ${res.status} ${text.slice(0, 120).replace(/\s+/g, ' ')}`);
    let body: unknown;
    try {
      body = text === '' ? [] : JSON.parse(text);
    } catch {
      throw new DicomwebError(`GET ${pathOnly}: the answer is not DICOM JSON (${res.headers.get('content-type') ?? 'no content type'})`);
    }
    if (!Array.isArray(body) || !body.every(isDicomJsonDataset)) throw new DicomwebError(`GET ${pathOnly}: the answer is not DICOM JSON (not an array of data sets)`);
    return body;
  }

  /** The QIDO-RS queries of the filters: one per modality (ModalitiesInStudy takes one value), else one. */
  private queries(): URLSearchParams[] {
    const f = this.options.filters;
    const base = new URLSearchParams();
    base.append('includefield', '00201208');
    if (f.studyInstanceUids.length > 0) base.append('StudyInstanceUID', f.studyInstanceUids.join(','));
    if (f.since !== undefined || f.until !== undefined) base.append('StudyDate', `${f.since ?? ''}-${f.until ?? ''}`);
    if (f.patientId !== undefined) base.append('PatientID', f.patientId);
    if (f.modalities.length === 0) return [base];
    return f.modalities.map((m) => {
      const q = new URLSearchParams(base);
      q.append('ModalitiesInStudy', m);
      return q;
    });
  }

  async *studies(_problem: (p: SourceProblem) => void, signal: AbortSignal): AsyncIterable<StudyWork> {
    const seen = new Set<string>();
    const pageSize = this.options.pageSize ?? 500;
    for (const query of this.queries()) {
      for (let offset = 0; ; offset += pageSize) {
        const q = new URLSearchParams(query);
        q.append('limit', String(pageSize));
        q.append('offset', String(offset));
        const page = (await this.getJson(`/studies?${q}`, signal)) as DicomJsonDataset[];
        for (const study of page) {
          const uid = first(study, '0020000D');
          if (typeof uid !== 'string' || seen.has(uid)) continue;
          seen.add(uid);
          const count = Number(first(study, '00201208'));
          yield {
            studyInstanceUid: uid,
            ...(Number.isInteger(count) && count > 0 ? { instances: count } : {}),
            load: () => this.load(uid, signal),
          };
        }
        if (page.length < pageSize || signal.aborted) break;
      }
    }
  }

  private async load(studyInstanceUid: string, signal: AbortSignal) {
    const instances = (await this.getJson(`/studies/${encodeURIComponent(studyInstanceUid)}/metadata`, signal)) as DicomJsonDataset[];
    const receivedAt = new Date().toISOString();
    const host = new URL(this.options.baseUrl).hostname;
    return Promise.all(
      instances.map(async (json) => {
        const record = await dicomJsonRecord(json, { source: 'dicomweb', callingAeTitle: '', calledAeTitle: '', peerAddress: host, receivedAt }, this.options.headerCapBytes);
        if (record.study.studyInstanceUid !== studyInstanceUid) throw new DicomwebError(`metadata of study ${studyInstanceUid} holds an instance of study ${record.study.studyInstanceUid}`);
        return record;
      }),
    );
  }
}
