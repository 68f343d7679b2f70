import { ipFromWords, parseCidr, type Cidr, type Ip } from '../net/address.js';
import { maskWord, wordsWithin } from '../net/words.js';
import { regrow } from '../net/columns.js';
import { KeyedRows, type RowColumns } from '../net/keyed-rows.js';

/**
 * Bans in force as the policy knows them: per entry (an address or a
 * network), when the ban ends. Every failure asks whether its address, and
 * for IPv6 its prefix, is banned, so the entries are keyed by family, length
 * and words rather than by text. The Map-like methods take the entry's text.
 */
export class BanTable implements RowColumns {
  private readonly rows: KeyedRows;
  private untilCol: Float64Array;

  constructor() {
    this.rows = new KeyedRows(5, this, 64);
    this.untilCol = new Float64Array(this.rows.capacity);
  }

  get size(): number {
    return this.rows.size;
  }

  /** When the ban of exactly this address ends, or undefined. */
  untilOfIp(ip: Ip): number | undefined {
    const r = this.rows.find(ip.family === 4 ? 0x400 | 32 : 0x600 | 128, ip.w0, ip.w1, ip.w2, ip.w3);
    return r < 0 ? undefined : this.untilCol[r];
  }

  /** When the ban of `ip`'s IPv6 prefix of `len` bits ends, or undefined. */
  untilOfPrefix(ip: Ip, len: number): number | undefined {
    const r = this.rows.find(0x600 | len, maskWord(ip.w0, 0, len), maskWord(ip.w1, 1, len), maskWord(ip.w2, 2, len), maskWord(ip.w3, 3, len));
    return r < 0 ? undefined : this.untilCol[r];
  }

  get(key: string | Cidr): number | undefined {
    const r = this.rowOf(key);
    return r < 0 ? undefined : this.untilCol[r];
  }

  has(key: string | Cidr): boolean {
    return this.rowOf(key) >= 0;
  }

  set(key: string | Cidr, until: number): this {
    const net = typeof key === 'string' ? parseCidr(key) : key;
    if (!net) throw new Error(`not an address or network: ${String(key)}`);
    const n = net.network;
    const tag = (net.family << 8) | net.prefix;
    let r = this.rows.find(tag, n.w0, n.w1, n.w2, n.w3);
    if (r < 0) r = this.rows.insert(tag, n.w0, n.w1, n.w2, n.w3);
    this.untilCol[r] = until;
    return this;
  }

  delete(key: string | Cidr): boolean {
    const r = this.rowOf(key);
    if (r < 0) return false;
    this.rows.remove(r);
    return true;
  }

  /** The entries' texts ("198.51.100.7", "2001:db8:1::/64"). */
  keys(): string[] {
    const out: string[] = [];
    for (let r = 0; r < this.rows.size; r++) out.push(this.text(r));
    return out;
  }

  /** Forgets bans that ended by `now`. */
  prune(now: number): void {
    this.rows.retain((r) => this.untilCol[r]! > now);
  }

  /** Forgets every entry inside `net`. */
  deleteWithin(net: Cidr): void {
    this.rows.retain((r) => {
      const tag = this.rows.key(r, 0);
      return !wordsWithin((tag >> 8) as 4 | 6, tag & 0xff, this.rows.key(r, 1), this.rows.key(r, 2), this.rows.key(r, 3), this.rows.key(r, 4), net);
    });
  }

  resize(capacity: number): void {
    this.untilCol = regrow(this.untilCol, capacity, this.rows.size);
  }

  move(from: number, to: number): void {
    this.untilCol[to] = this.untilCol[from]!;
  }

  private rowOf(key: string | Cidr): number {
    const net = typeof key === 'string' ? parseCidr(key) : key;
    if (!net) return -1;
    const n = net.network;
    return this.rows.find((net.family << 8) | net.prefix, n.w0, n.w1, n.w2, n.w3);
  }

  private text(r: number): string {
    const tag = this.rows.key(r, 0);
    const family = (tag >> 8) as 4 | 6;
    const len = tag & 0xff;
    const ip = ipFromWords(family, this.rows.key(r, 1), this.rows.key(r, 2), this.rows.key(r, 3), this.rows.key(r, 4));
    return len === (family === 4 ? 32 : 128) ? ip.text : `${ip.text}/${len}`;
  }
}
