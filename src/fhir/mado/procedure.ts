/**
 * MadoImagingStudy.procedureCode under the invariant mado-reqproc-1
 * (profiles/ImagingStudy-MADO.fsh: `procedureCode.text.exists() or
 * procedureCode.coding.display.exists()`): a procedure a person can read.
 * Taken from, in order:
 *   1. (0008,1032) Procedure Code Sequence (coding, text = Code Meaning);
 *   2. (0032,1060) Requested Procedure Description (text);
 *   3. (0032,1064) Requested Procedure Code Sequence (coding, text = Code Meaning);
 *   4. (0008,1030) Study Description (text);
 *   5. the modalities of the shared series, e.g. "CT imaging study" (text),
 *      so that a study without any description still satisfies the invariant.
 * Pure.
 */
import type { StudyState } from '../../dicom/study-state.js';
import { codedEntryToConcept } from '../coding.js';
import type { StudyModel } from '../study-model.js';
import type { CodeableConcept } from './r4-types.js';

function readable(c: CodeableConcept): boolean {
  return !!c.text || (c.coding ?? []).some((x) => !!x.display);
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

export function procedureCodes(state: StudyState, model: StudyModel): CodeableConcept[] {
  const coded = model.procedureCodes.filter(readable);
  if (coded.length) return coded;
  const requestedText = nonEmpty(state.study.requestedProcedureDescription);
  if (requestedText) return [{ text: requestedText }];
  const requested = (state.study.requestedProcedureCodes ?? [])
    .map(codedEntryToConcept)
    .filter((c): c is CodeableConcept => c !== undefined && readable(c));
  if (requested.length) return requested;
  if (model.description) return [{ text: model.description }];
  const modalities = model.modalities.map((m) => m.text.toUpperCase());
  return [{ text: modalities.length ? `${modalities.join(', ')} imaging study` : 'Imaging study' }];
}
