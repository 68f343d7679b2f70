import { parseIp, type Ip } from '../net/address.js';

/**
 * Remembers the last few results of a pure function of a string (reason
 * texts: a log repeats a handful of them endlessly). A short list compared
 * with === is much cheaper here than a Map: the keys are fresh slices of a
 * line, and hashing a fresh string costs more than comparing a few.
 */
export function memo<T>(fn: (key: string) => T, size = 32): (key: string) => T {
  const keys: string[] = [];
  const values: T[] = [];
  let next = 0;
  return (key) => {
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return values[i]!;
    const v = fn(key);
    // Replaced in turn once full, so memory stays bounded whatever the input.
    keys[next] = key;
    values[next] = v;
    next = (next + 1) % size;
    return v;
  };
}

const MAX_INTERNED = 1 << 18;

/**
 * parseIp, with one Ip object per distinct address text: the stages after the
 * signature key maps by `ip.text`, and the same string object every time lets
 * them reuse its hash. Keys are flat copies, never slices of a line, which
 * would keep the whole read buffer they came from alive.
 */
export function memoParseIp(): (text: string) => Ip | null {
  const seen = new Map<string, Ip | null>();
  return (text) => {
    let ip = seen.get(text);
    if (ip === undefined) {
      if (seen.size >= MAX_INTERNED) seen.clear();
      const key = Buffer.from(text, 'utf16le').toString('utf16le');
      ip = parseIp(key);
      seen.set(key, ip);
    }
    return ip;
  };
}
