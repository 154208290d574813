/**
 * Series laterality (issue 19 items 1, 2). (0020,0060) Laterality when present; else from the Image
 * Laterality (0020,0062) of every image of the series: the one side when all agree, B (51440002
 * "Right and left") when they carry R and L (or B), none when unknown. U is "unpaired" (the body part
 * is not a paired structure): it says nothing about a side and is never 66459002 "Unilateral".
 * Order-independent: the result depends on the set of values, not on the order images arrived in.
 */

/** The DICOM code (R, L, B, or an unknown text kept for display) of a series, or undefined. */
export function seriesLateralityCode(laterality: string | undefined, imageLateralities: readonly (string | undefined)[]): string | undefined {
  const own = sided(laterality);
  if (own !== undefined) return own;
  const sides = new Set<string>();
  for (const v of imageLateralities) {
    const s = sided(v);
    if (s !== undefined) sides.add(s);
  }
  if (sides.size === 0) return undefined;
  if (sides.size === 1) return [...sides][0];
  if ([...sides].every((s) => s === 'R' || s === 'L' || s === 'B')) return 'B';
  // Mixed with values outside CID 244: no honest single answer.
  return undefined;
}

/** A value that names a side (or an unknown text), undefined for empty and U. */
function sided(value: string | undefined): string | undefined {
  const v = value?.trim().toUpperCase();
  return v && v !== 'U' ? v : undefined;
}
