// Types for dicom-character-set 1.0.5 (ships none): the parts the bridge uses.
declare module 'dicom-character-set' {
  export interface ConvertOptions {
    /** VR of the value: tells the decoder which delimiters reset the active character set. */
    vr?: string;
  }
  export function convertBytes(
    specificCharacterSet: string | undefined,
    bytes: Uint8Array,
    options?: ConvertOptions,
  ): string;
  export const characterSets: Record<string, unknown>;
}
