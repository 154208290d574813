/**
 * The syntax of a UID value (PS3.5 Section 9.1): components of digits
 * separated by single dots, no component with a leading zero (a component
 * that is just "0" is fine), at most 64 characters. The value is the one
 * read from a UI element after its padding was trimmed (PS3.5 Table 6.2-1:
 * a trailing NUL; spaces around it, which some modalities send, are trimmed
 * by the reader too). UIDs become FHIR ids and urn:oid: values downstream,
 * where anything else is refused for ever; they are checked before a C-STORE
 * is acknowledged.
 */

/** PS3.5 Section 9.1: "shall not exceed 64 total characters". */
export const UID_MAX_LENGTH = 64;

const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Why `value` is not a UID, in a few words (fit for an Error Comment after the
 * attribute's name), or undefined when it is one. One pass, no allocation.
 */
export function uidSyntaxProblem(value: string): string | undefined {
  if (value.length === 0) return 'empty';
  if (value.length > UID_MAX_LENGTH) return `over ${UID_MAX_LENGTH} characters`;
  let componentStart = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : DOT;
    if (c === DOT) {
      const componentLength = i - componentStart;
      if (componentLength === 0) return 'empty component';
      if (componentLength > 1 && value.charCodeAt(componentStart) === ZERO) return 'leading zero in a component';
      componentStart = i + 1;
    } else if (c < ZERO || c > NINE) return 'not digits and dots';
  }
  return undefined;
}

export function isUid(value: string): boolean {
  return uidSyntaxProblem(value) === undefined;
}
