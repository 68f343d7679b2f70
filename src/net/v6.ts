import ipaddr from 'ipaddr.js';

/**
 * The eight 16-bit groups of an IPv6 address already in RFC 5952 form (what
 * the address parser produces), without going through a general parser: the
 * policy needs them for every IPv6 failure. Anything unusual (an embedded
 * IPv4 part) falls back to ipaddr.js.
 */
export function v6Groups(text: string): number[] {
  if (text.includes('.')) return ipaddr.IPv6.parse(text).parts.slice();
  const gap = text.indexOf('::');
  const head = gap < 0 ? text : text.slice(0, gap);
  const tail = gap < 0 ? '' : text.slice(gap + 2);
  const a = head === '' ? [] : head.split(':');
  const b = tail === '' ? [] : tail.split(':');
  const out = new Array<number>(8).fill(0);
  for (let i = 0; i < a.length; i++) out[i] = parseInt(a[i]!, 16);
  for (let i = 0; i < b.length; i++) out[8 - b.length + i] = parseInt(b[i]!, 16);
  return out;
}

/** RFC 5952 text of eight groups: lower-case hex, the longest run of two or more zero groups as "::". */
export function formatV6(groups: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return hex(groups, 0, 8);
  return `${hex(groups, 0, best)}::${hex(groups, best + bestLen, 8)}`;
}

/** Groups from…to in hex, joined by ":" (a loop: `blocker check` names tens of thousands of addresses). */
function hex(groups: readonly number[], from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += i === from ? groups[i]!.toString(16) : `:${groups[i]!.toString(16)}`;
  return out;
}

/** The eight groups plainV6Words read last (one buffer: it runs for every IPv6 address parsed). */
const GROUPS = new Int32Array(8);

/**
 * Whether words w0…w2 make the address ::ffff:a.b.c.d (IPv4-mapped, written in
 * hex), which every reader folds to the IPv4 address in w3.
 */
export function isV4Mapped(w0: number, w1: number, w2: number): boolean {
  return w0 === 0 && w1 === 0 && w2 === 0xffff;
}

/**
 * Reads `s[from…to)` when it is IPv6 in hex groups alone, as its four 32-bit
 * words into `words`: one to four hex digits a group, eight groups, or fewer
 * and one "::" that stands for at least one zero group. That is the grammar
 * under which ipaddr.js accepts an address without an IPv4 part or a zone, so
 * the words are the ones ipaddr.js would find, with no string or array made.
 * False for anything else, valid or not: the caller then asks ipaddr.js (or
 * parseIp, which does).
 */
export function plainV6Words(s: string, from: number, to: number, words: Int32Array): boolean {
  if (to - from < 2) return false;
  let n = 0;
  let gap = -1;
  let i = from;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
  }
  while (i < to) {
    let v = 0;
    let digits = 0;
    let c = s.charCodeAt(i);
    for (;;) {
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0) break;
      if (++digits > 4) return false;
      v = v * 16 + h;
      if (++i === to) break;
      c = s.charCodeAt(i);
    }
    if (digits === 0 || n === 8) return false;
    GROUPS[n++] = v;
    if (i === to) break;
    if (c !== 58) return false;
    if (++i === to) return false; // a single ':' at the end
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    }
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else {
    if (n > 7) return false;
    // Move the groups after "::" to the end and fill the gap with zeros.
    const after = n - gap;
    for (let k = 0; k < after; k++) GROUPS[7 - k] = GROUPS[n - 1 - k]!;
    for (let k = gap; k < 8 - after; k++) GROUPS[k] = 0;
  }
  for (let k = 0; k < 4; k++) words[k] = (GROUPS[2 * k]! << 16) | GROUPS[2 * k + 1]!;
  return true;
}
