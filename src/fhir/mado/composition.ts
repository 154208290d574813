/**
 * MadoComposition (profiles/Composition-Mado.fsh): the first entry of the
 * document Bundle. status final; type and category LOINC 18748-4
 * "Diagnostic imaging study" (as the guide's example); identifier the
 * manifest UID; subject the Patient; date the manifest's time; authors the
 * creator Device and Organization; event[imaging-study].detail the
 * ImagingStudy; a generated narrative of the study; one section per shared
 * series with its own narrative. Pure.
 */
import { DIAGNOSTIC_IMAGING_STUDY, MADO_PROFILE } from './canonicals.js';
import { manifestIdentifier } from './identifiers.js';
import { tableNarrative } from './narrative.js';
import type { CodeableConcept, Composition, CompositionSection, ImagingStudy } from './r4-types.js';

export interface CompositionInput {
  uid: string;
  createdAt: string;
  study: ImagingStudy;
  studyInstanceUid: string;
  accession?: string | undefined;
  regions: readonly string[];
  refs: { patient: string; device: string; organization: string; imagingStudy: string };
}

const conceptText = (c: CodeableConcept | undefined): string | undefined => c?.text ?? c?.coding?.find((x) => x.display)?.display;

function sectionOf(series: NonNullable<ImagingStudy['series']>[number]): CompositionSection {
  const modality = series.modality?.code ?? series.modality?.display;
  const title = [`Series${series.number !== undefined ? ` ${series.number}` : ''}`, modality, series.description].filter(Boolean).join(' · ');
  return {
    title,
    text: tableNarrative(title, [
      ['Series Instance UID', series.uid],
      ['Modality', series.modality?.display ? `${series.modality.display}${modality ? ` (${modality})` : ''}` : modality],
      ['Description', series.description],
      ['Started', series.started],
      ['Body site', series.bodySite?.display ?? series.bodySite?.code],
      ['Number of instances', String(series.numberOfInstances ?? 0)],
    ]),
  };
}

export function composition(input: CompositionInput): Composition {
  const { study } = input;
  const procedure = study.procedureCode?.map(conceptText).filter(Boolean).join('; ');
  const modalities = (study.modality ?? []).map((m) => m.code ?? m.display).filter(Boolean).join(', ');
  const title = `Imaging study manifest${procedure ? `: ${procedure}` : ''}`;
  return {
    resourceType: 'Composition',
    meta: { profile: [MADO_PROFILE.composition] },
    text: tableNarrative(title, [
      ['Study Instance UID', input.studyInstanceUid],
      ['Procedure', procedure],
      ['Study description', study.description],
      ['Study started', study.started],
      ['Modalities', modalities],
      ['Anatomical region', input.regions.join(', ')],
      ['Accession number', input.accession],
      ['Number of series', String(study.numberOfSeries ?? 0)],
      ['Number of instances', String(study.numberOfInstances ?? 0)],
      ['Manifest created', input.createdAt],
    ]),
    identifier: manifestIdentifier(input.uid),
    status: 'final',
    type: { coding: [{ ...DIAGNOSTIC_IMAGING_STUDY }] },
    category: [{ coding: [{ ...DIAGNOSTIC_IMAGING_STUDY }] }],
    subject: { reference: input.refs.patient },
    date: input.createdAt,
    author: [{ reference: input.refs.device }, { reference: input.refs.organization }],
    title,
    event: [{ detail: [{ reference: input.refs.imagingStudy }] }],
    section: (study.series ?? []).map(sectionOf),
  };
}
