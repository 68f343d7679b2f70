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
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(0, 8);
  return `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}
