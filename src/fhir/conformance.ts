/**
 * The conformance table: which DICOM source fills which ImagingStudy element
 * in each FHIR version. It is data, checked against the mapping by
 * test/fhir/conformance.test.ts (every row's element is present in the mapped
 * output of a fully populated study, for each version the row names; every
 * element the mapping writes has a row), and rendered for the README by
 * renderConformanceMarkdown().
 *
 * Element paths are dotted FHIR element paths through arrays; a bracketed
 * filter selects array members: `[a.b=v]` (some value at a.b equals v) or
 * `[!a]` (a is absent). E.g. `identifier[type.coding.code=ACSN]`.
 */
import type { FhirVersion } from './mapping-options.js';
import { DCM_SYSTEM, DICOM_UID_SYSTEM, OID_PREFIX, RFC3986_SYSTEM } from './systems.js';

export interface ConformanceRow {
  /** DICOM source attribute(s) or other source. */
  source: string;
  /** Element path per version; a version without a path does not carry it. */
  element: Partial<Record<FhirVersion, string>>;
  note?: string;
}

export const FHIR_VERSIONS: readonly FhirVersion[] = ['STU3', 'R4', 'R5'];

export const CONFORMANCE: readonly ConformanceRow[] = [
  {
    source: '(0020,000D) Study Instance UID',
    element: { STU3: 'uid', R4: `identifier[system=${DICOM_UID_SYSTEM}]`, R5: `identifier[system=${DICOM_UID_SYSTEM}]` },
    note: `STU3 \`${OID_PREFIX}<uid>\`; R4/R5 system \`${DICOM_UID_SYSTEM}\`, value \`${OID_PREFIX}<uid>\``,
  },
  {
    source: '(0008,0050) Accession Number, (0008,0051) Issuer of Accession Number',
    element: { STU3: 'accession', R4: 'identifier[type.coding.code=ACSN]', R5: 'basedOn.identifier[type.coding.code=ACSN]' },
    note: 'type v2-0203 ACSN; issuer → system (OID/URI or issuer table) else `assigner.display`; R5 in basedOn only (its mapping; `FHIR_BASED_ON` unset = accession in R5), with `FHIR_BASED_ON=off` in `identifier`',
  },
  {
    source: '(0020,0010) Study ID',
    element: { STU3: 'identifier', R4: 'identifier[!system][!type]', R5: 'identifier[!system][!type]' },
  },
  {
    source: '(none): what the bridge received is online',
    element: { STU3: 'availability', R4: 'status', R5: 'status' },
    note: 'STU3 `ONLINE` (configurable); R4/R5 `available`',
  },
  {
    source: '(0008,0060) Modality of all series, distinct; R4/STU3 acquisition modalities only',
    element: { STU3: 'modalityList', R4: 'modality', R5: 'modality' },
    note: `system \`${DCM_SYSTEM}\`; R4/STU3 CID 29 (their definition: SR, KO, PR, SEG, RTSTRUCT and the rest of CID 32 left out; an SR-only study lists none), R5 all series modalities (CID 33, its definition); unknown values keep the text only`,
  },
  {
    source: '(0010,0020) Patient ID, (0010,0021) Issuer, (0010,0024) Qualifiers',
    element: { STU3: 'patient', R4: 'subject', R5: 'subject' },
    note: 'resolved Patient reference, else logical reference by identifier',
  },
  {
    source: '(0008,0020) Study Date, (0008,0030) Study Time, (0008,0201) Timezone Offset',
    element: { STU3: 'started', R4: 'started', R5: 'started' },
    note: 'offset from (0008,0201), else the configured IANA zone',
  },
  {
    source: '(0008,0050) Accession Number, (0032,1064) Requested Procedure Code',
    element: { STU3: 'basedOn', R4: 'basedOn', R5: 'basedOn' },
    note: 'when `basedOn: accession` (default in R5, off in R4/STU3); logical reference by the accession identifier',
  },
  {
    source: "(0008,0090) Referring Physician's Name",
    element: { STU3: 'referrer.display', R4: 'referrer.display', R5: 'referrer.display' },
  },
  {
    source: '(0008,1060) Name of Physician(s) Reading Study',
    element: { STU3: 'interpreter.display', R4: 'interpreter.display' },
    note: 'no such element in R5',
  },
  {
    source: 'DICOMweb base URL (configuration)',
    element: { STU3: 'endpoint', R4: 'endpoint', R5: 'endpoint' },
    note: 'Endpoint `dicom-wado-rs`',
  },
  {
    source: 'distinct series received',
    element: { STU3: 'numberOfSeries', R4: 'numberOfSeries', R5: 'numberOfSeries' },
  },
  {
    source: 'distinct SOP instances received',
    element: { STU3: 'numberOfInstances', R4: 'numberOfInstances', R5: 'numberOfInstances' },
  },
  {
    source: '(0008,1032) Procedure Code Sequence',
    element: { STU3: 'procedureCode', R4: 'procedureCode', R5: 'procedure.concept' },
  },
  {
    source: '(0040,0243) Performed Location, else (0008,1040) Institutional Department Name',
    element: { R4: 'location.display', R5: 'location.display' },
    note: 'display-only Reference(Location) (the FHIR mapping: `(0008,1040) | (0040,0243)`); latest present value of the study; `FHIR_LOCATION=off` leaves it out; no such element in STU3',
  },
  {
    source: '(0040,1002) Reason for Requested Procedure, (0040,100A) Reason Code Sequence',
    element: { STU3: 'reason', R4: 'reasonCode', R5: 'reason.concept' },
  },
  {
    source: '(0008,1030) Study Description',
    element: { STU3: 'description', R4: 'description', R5: 'description' },
  },
  {
    source: '(0020,000E) Series Instance UID',
    element: { STU3: 'series.uid', R4: 'series.uid', R5: 'series.uid' },
    note: `STU3 \`${OID_PREFIX}<uid>\`; R4/R5 plain UID`,
  },
  {
    source: '(0020,0011) Series Number',
    element: { STU3: 'series.number', R4: 'series.number', R5: 'series.number' },
    note: 'left out when missing',
  },
  {
    source: '(0008,0060) Modality',
    element: { STU3: 'series.modality', R4: 'series.modality', R5: 'series.modality' },
  },
  {
    source: '(0008,103E) Series Description',
    element: { STU3: 'series.description', R4: 'series.description', R5: 'series.description' },
  },
  {
    source: 'distinct SOP instances received in the series',
    element: { STU3: 'series.numberOfInstances', R4: 'series.numberOfInstances', R5: 'series.numberOfInstances' },
  },
  {
    source: '(0008,2218) Anatomic Region Sequence, else (0018,0015) Body Part Examined',
    element: { STU3: 'series.bodySite', R4: 'series.bodySite', R5: 'series.bodySite.concept' },
    note: 'Anatomic Region (first item) when its Coding Scheme Designator is known (SCT → `http://snomed.info/sct`, others per the coding-scheme table), display its Code Meaning; else Body Part Examined to SNOMED CT by PS3.16 Annex L; unknown values (and a region in a local scheme) keep the text only',
  },
  {
    source: '(0020,0060) Laterality, else (0020,0062) Image Laterality of every image of the series',
    element: { STU3: 'series.laterality', R4: 'series.laterality', R5: 'series.laterality' },
    note: 'SNOMED CT by CID 244; from the images: the one side when all agree, 51440002 when R and L (or B), none when unknown; U (unpaired) gives none; order of arrival does not matter',
  },
  {
    source: '(0008,0021) Series Date, (0008,0031) Series Time',
    element: { STU3: 'series.started', R4: 'series.started', R5: 'series.started' },
    note: 'Study Date when only the Series Time is present',
  },
  {
    source: "(0008,1050) Performing Physician's Name, (0008,1070) Operators' Name",
    element: { STU3: 'series.performer.display', R4: 'series.performer.actor.display', R5: 'series.performer.actor.display' },
    note: 'STU3: distinct names (no function)',
  },
  {
    source: "(0008,1050) Performing Physician's Name → PRF, (0008,1070) Operators' Name → SPRF",
    element: { R4: 'series.performer.function', R5: 'series.performer.function' },
    note: 'v3 ParticipationType (as R5\'s ImagingSelection mapping and dcm4chee); no such element in STU3',
  },
  {
    source: '(0008,0018) SOP Instance UID',
    element: { STU3: 'series.instance.uid', R4: 'series.instance.uid', R5: 'series.instance.uid' },
    note: `STU3 \`${OID_PREFIX}<uid>\`; R4/R5 plain UID`,
  },
  {
    source: '(0008,0016) SOP Class UID',
    element: { STU3: 'series.instance.sopClass', R4: 'series.instance.sopClass', R5: 'series.instance.sopClass' },
    note: `STU3 \`${OID_PREFIX}<uid>\`; R4/R5 Coding system \`${RFC3986_SYSTEM}\`, code \`${OID_PREFIX}<uid>\``,
  },
  {
    source: '(0020,0013) Instance Number',
    element: { STU3: 'series.instance.number', R4: 'series.instance.number', R5: 'series.instance.number' },
    note: 'left out when missing',
  },
  {
    source: '(0070,0080) Content Label, else (0042,0010) Document Title, else (0040,A043) > Code Meaning, else (3006,0002) Structure Set Label',
    element: { STU3: 'series.instance.title', R4: 'series.instance.title', R5: 'series.instance.title' },
  },
];

// ---------------------------------------------------------------------------
// path evaluation

interface Segment {
  name: string;
  filters: Array<{ path: string[]; equals?: string; absent?: boolean }>;
}

function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  const re = /([A-Za-z][A-Za-z0-9]*)((?:\[[^\]]+\])*)\.?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null && m[0] !== '') {
    const filters = [...(m[2] ?? '').matchAll(/\[([^\]]+)\]/g)].map(([, f]) => {
      if (f!.startsWith('!')) return { path: f!.slice(1).split('.'), absent: true };
      const eq = f!.indexOf('=');
      return { path: f!.slice(0, eq).split('.'), equals: f!.slice(eq + 1) };
    });
    segments.push({ name: m[1]!, filters });
  }
  return segments;
}

function flatten(values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v !== undefined && v !== null);
}

function valuesAt(roots: unknown[], path: string[]): unknown[] {
  let current = flatten(roots);
  for (const name of path) {
    current = flatten(current.map((v) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[name] : undefined)));
  }
  return current;
}

/** The values a conformance path selects in a resource (empty when absent). */
export function selectPath(resource: unknown, path: string): unknown[] {
  let current: unknown[] = [resource];
  for (const seg of parsePath(path)) {
    current = valuesAt(current, [seg.name]).filter((member) =>
      seg.filters.every((f) => {
        const found = valuesAt([member], f.path);
        return f.absent ? found.length === 0 : found.some((v) => String(v) === f.equals);
      }),
    );
  }
  return current;
}

export function elementPresent(resource: unknown, path: string): boolean {
  return selectPath(resource, path).length > 0;
}

// ---------------------------------------------------------------------------
// rendering

function cell(path: string | undefined): string {
  return path === undefined ? '—' : `\`${path.replace(/\|/g, '\\|')}\``;
}

/** The conformance table as Markdown (for the README). */
export function renderConformanceMarkdown(): string {
  const lines = [
    '| DICOM source | STU3 | R4 | R5 | Notes |',
    '|---|---|---|---|---|',
    ...CONFORMANCE.map(
      (r) =>
        `| ${r.source.replace(/\|/g, '\\|')} | ${cell(r.element.STU3)} | ${cell(r.element.R4)} | ${cell(r.element.R5)} | ${(r.note ?? '').replace(/\|/g, '\\|')} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
