import type { MatchResult, Signature } from './types.js';

/** `format: auto`: every built-in format, tried on each line; says which one matched. */
export interface AutoSignature extends Signature {
  /** The format that recognised the last line given to `match`, or null. */
  readonly lastMatchedBy: string | null;
}

/**
 * Each built-in rejects foreign lines on a cheap substring test, so trying
 * them all costs little more than one. Every signature sees every line, as
 * the ones that join lines (Apache, Postfix) need to.
 */
export function createAutoSignature(signatures: readonly Signature[]): AutoSignature {
  let lastMatchedBy: string | null = null;
  return {
    name: 'auto',
    get lastMatchedBy() {
      return lastMatchedBy;
    },
    match(line: string, next?: string): MatchResult {
      let result: MatchResult = null;
      lastMatchedBy = null;
      for (const s of signatures) {
        const r = s.match(line, next);
        if (r !== null && result === null) {
          result = r;
          lastMatchedBy = s.name;
        }
      }
      return result;
    },
  };
}
