/**
 * The request target and its path segments, parsed without throwing: a
 * target that does not parse, or a segment whose percent-encoding is not
 * UTF-8, is the client's error (400), never an exception out of a handler.
 */

/**
 * The target as a URL on localhost, or undefined when it does not parse. An
 * origin-form target is a path: `//x` is the path //x, not a URL with host x.
 */
export function parseTarget(target: string): URL | undefined {
  try {
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target, 'http://localhost');
  } catch {
    return undefined;
  }
}

/** A percent-decoded path segment, or undefined when its encoding is not valid (`%zz`, a lone `%`, bytes that are not UTF-8). */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
