import type { MatchResult, Signature } from './types.js';

/** `format: auto`: every built-in format, tried on each line; says which one matched. */
export interface AutoSignature extends Signature {
  /** The format that recognised the last line given to `match`, or null. */
  readonly lastMatchedBy: string | null;
}

/**
 * Each built-in rejects foreign lines on a cheap test, so trying them all
 * costs little more than one. Once one has recognised a line the stateless
 * ones are skipped; the ones that join lines (Apache, Postfix) see every line.
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
        if (result !== null && !s.stateful) continue;
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
