/**
 * Writes a study's ImagingStudy to the FHIR server. A first publish is a
 * conditional update keyed by the Study Instance UID (or a PUT to a
 * client-assigned id when the server does not do conditional update). Later
 * publishes read the resource, keep what the bridge does not own
 * (owned-elements.ts) and write with If-Match on the version read; a 409 or
 * 412 reads and merges again, a bounded number of rounds. With a Patient to
 * create (strategy create), the write is one transaction with the Patient's
 * conditional create.
 */
import type { Logger } from 'pino';
import {
  FhirHttpError,
  FhirProtocolError,
  idFromLocation,
  outcomeText,
  type FhirClient,
  type FhirResource,
  type FhirResponse,
} from '../fhir-client/fhir-client.js';
import type { ServerCapabilities } from '../fhir-client/server-capabilities.js';
import type { FhirVersion } from '../fhir/mapping-options.js';
import type { Bundle } from '../fhir/types/bundle.js';
import { mergeImagingStudy, sameContent } from '../fhir/owned-elements.js';
import { imagingStudyId } from '../fhir/resource-ids.js';
import type { PublishStatus } from '../pipeline/study-store.js';
import { PublishRejectedError } from './publish-errors.js';
import type { PatientCreate } from './references.js';
import { matchesOf } from './searchset.js';

/** The search of `PUT ImagingStudy?<query>` that finds the study's resource (default conditionalUpdateQuery). */
export type ConditionalQuery = (studyInstanceUid: string, version: FhirVersion) => string;

export interface ImagingStudyWrite {
  studyInstanceUid: string;
  /** The mapped ImagingStudy, without id. */
  body: FhirResource;
  version: FhirVersion;
  caps: ServerCapabilities;
  /** The last publish: the id the server gave, and the resource written (what the bridge owns of it). */
  previous: Pick<PublishStatus, 'resourceId' | 'lastResource'>;
  patient?: PatientCreate;
}

export interface Sent {
  httpStatus: number;
  resourceId: string | undefined;
  /** The write was skipped: the server already has this content. */
  unchanged?: boolean;
}

export interface ImagingStudyWriterOptions {
  client: FhirClient;
  conditionalQuery: ConditionalQuery;
  /** Read-merge-write rounds after a 409/412 before the publish is retried later; default 5. */
  maxConflictRounds?: number;
  logger: Logger;
}

interface Existing {
  resource: FhirResource;
  /** `W/"<versionId>"` of the version read. */
  ifMatch: string | undefined;
}

const CONFLICT = new Set([409, 412]);

export class ImagingStudyWriter {
  constructor(private readonly options: ImagingStudyWriterOptions) {}

  async write(w: ImagingStudyWrite): Promise<Sent> {
    const { client, conditionalQuery } = this.options;
    const uid = w.studyInstanceUid;
    const conditional = w.caps.conditionalUpdate('ImagingStudy');
    const rounds = this.options.maxConflictRounds ?? 5;
    let knownId = w.previous.resourceId ?? (conditional ? undefined : imagingStudyId(uid));
    for (let round = 1; ; round++) {
      const existing = await this.findExisting(uid, w.version, knownId, conditional);
      try {
        if (existing === undefined) {
          // First publish: nothing to keep.
          const url = conditional ? `ImagingStudy?${conditionalQuery(uid, w.version)}` : `ImagingStudy/${imagingStudyId(uid)}`;
          if (w.patient) return await this.transaction(w.patient, conditional ? w.body : { ...w.body, id: imagingStudyId(uid) }, { method: 'PUT', url });
          if (conditional) {
            const response = await client.conditionalUpdate('ImagingStudy', conditionalQuery(uid, w.version), w.body);
            return await this.confirmed(w, response, response.resource?.id ?? idFromLocation(response.location, 'ImagingStudy'));
          }
          const response = await client.update('ImagingStudy', imagingStudyId(uid), w.body);
          return await this.confirmed(w, response, response.resource?.id ?? imagingStudyId(uid));
        }
        const id = existing.resource.id!;
        knownId = id;
        const merged = mergeImagingStudy(existing.resource, w.body, w.version, w.previous.lastResource);
        if (w.patient) {
          return await this.transaction(w.patient, merged, {
            method: 'PUT',
            url: `ImagingStudy/${id}`,
            ...(existing.ifMatch ? { ifMatch: existing.ifMatch } : {}),
          });
        }
        if (sameContent(merged, existing.resource)) return { httpStatus: 200, resourceId: id, unchanged: true };
        const response = await client.update('ImagingStudy', id, merged, existing.ifMatch ? { ifMatch: existing.ifMatch } : {});
        return await this.confirmed(w, response, response.resource?.id ?? id);
      } catch (err) {
        // Someone wrote in between: read and merge again, a bounded number of times.
        if (err instanceof FhirHttpError && CONFLICT.has(err.status) && existing !== undefined && round < rounds) {
          this.options.logger.debug({ studyInstanceUid: uid, round, httpStatus: err.status }, 'ImagingStudy changed meanwhile: merging again');
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * A write answered 2xx with the ImagingStudy is done. One answered with no
   * body (return=minimal) is done only once a read finds the study there: a
   * proxy's empty 200 must not mark it published.
   */
  private async confirmed(w: ImagingStudyWrite, response: FhirResponse<FhirResource>, id: string | undefined): Promise<Sent> {
    if (response.resource !== undefined) return { httpStatus: response.status, resourceId: id };
    const unconfirmed = (why: string) =>
      new FhirProtocolError(`ImagingStudy write → ${response.status} with no resource in the answer, and ${why}: not taken as written`, response.status);
    let found: FhirResource | undefined;
    try {
      if (id !== undefined) found = (await this.options.client.read('ImagingStudy', id)).resource;
      else {
        const matches = matchesOf((await this.options.client.search('ImagingStudy', this.options.conditionalQuery(w.studyInstanceUid, w.version))).resource, 'ImagingStudy');
        found = matches.length === 1 ? matches[0] : undefined;
      }
    } catch (err) {
      if (err instanceof FhirHttpError && (err.status === 404 || err.status === 410)) throw unconfirmed(`the read back found nothing (${err.status})`);
      throw err;
    }
    if (found === undefined || !identifiesStudy(found, w.studyInstanceUid)) throw unconfirmed('the read back does not find the study');
    return { httpStatus: response.status, resourceId: found.id ?? id };
  }

  /** The ImagingStudy on the server: by the id known, else by identifier search; undefined when none. */
  private async findExisting(uid: string, version: FhirVersion, knownId: string | undefined, conditional: boolean): Promise<Existing | undefined> {
    const { client } = this.options;
    if (knownId !== undefined) {
      try {
        const response = await client.read('ImagingStudy', knownId);
        if (response.resource?.resourceType === 'ImagingStudy') return existingOf(response.resource, response.etag);
      } catch (err) {
        if (!(err instanceof FhirHttpError) || (err.status !== 404 && err.status !== 410)) throw err;
      }
      if (!conditional) return undefined; // client-assigned id: not there is not there
    }
    const query = this.options.conditionalQuery(uid, version);
    const response = await client.search('ImagingStudy', query);
    const matches = matchesOf(response.resource, 'ImagingStudy');
    if (matches.length > 1) {
      throw new PublishRejectedError(`${matches.length} ImagingStudy resources match ${decodeURIComponent(query)}: resolve the duplicates on the server, then republish`);
    }
    return matches[0] ? existingOf(matches[0], undefined) : undefined;
  }

  /** One transaction: conditional create of the Patient, and the write of the ImagingStudy that refers to it. */
  private async transaction(patient: PatientCreate, study: FhirResource, request: { method: 'PUT'; url: string; ifMatch?: string }): Promise<Sent> {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: patient.urn,
          resource: patient.resource,
          request: {
            method: 'POST',
            url: 'Patient',
            ifNoneExist: `identifier=${encodeURIComponent(`${patient.identifier.system}|${patient.identifier.value}`)}`,
          },
        },
        { resource: study, request },
      ],
    };
    const response = await this.options.client.transaction(bundle);
    const entries = response.resource?.entry ?? [];
    // A transaction-response has one entry per request entry (FHIR R4 3.1.0.11.2); fewer says nothing was written.
    if (response.resource?.type !== 'transaction-response' || entries.length !== bundle.entry!.length) {
      throw new FhirProtocolError(
        `POST / (transaction) → ${response.status}: a Bundle of type ${/^[a-z-]{1,40}$/.test(String(response.resource?.type)) ? response.resource?.type : '(other)'} with ${entries.length} entries, not the transaction-response of ${bundle.entry!.length} expected`,
        response.status,
      );
    }
    for (const entry of entries) {
      const status = parseInt(entry.response?.status ?? '', 10);
      if (Number.isFinite(status) && (status < 200 || status >= 300)) {
        const outcome = entry.response?.outcome;
        throw new FhirHttpError(`POST / (transaction entry) → ${status}${outcomeText(outcome) ? `: ${outcomeText(outcome)}` : ''}`, status, outcome);
      }
    }
    const studyEntry = entries[1];
    const resourceId = studyEntry?.resource?.id ?? idFromLocation(studyEntry?.response?.location, 'ImagingStudy');
    return { httpStatus: parseInt(studyEntry?.response?.status ?? '', 10) || response.status, resourceId };
  }
}

/** Whether an ImagingStudy carries the Study Instance UID: an identifier urn:oid:<uid> (R4, R5), or STU3's uid. */
function identifiesStudy(resource: FhirResource, uid: string): boolean {
  const { identifier, uid: stu3Uid } = resource as { identifier?: unknown; uid?: unknown };
  if (stu3Uid === `urn:oid:${uid}`) return true;
  return Array.isArray(identifier) && identifier.some((i) => (i as { value?: unknown } | null)?.value === `urn:oid:${uid}`);
}

function existingOf(resource: FhirResource, etag: string | undefined): Existing {
  const versionId = (resource.meta as { versionId?: unknown } | undefined)?.versionId;
  const ifMatch = typeof versionId === 'string' && versionId !== '' ? `W/"${versionId}"` : etag;
  return { resource, ifMatch };
}
