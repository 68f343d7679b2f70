import { parseIp } from '../net/address.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * `127.0.0.1:9477`, `[::1]:9477`, or a bare port (`9477`), which means
 * loopback: metrics tell an attacker what is banned and why, so reaching
 * them from elsewhere must be asked for by writing the address.
 * Returns a message for the config error instead of throwing.
 */
export function parseListen(text: string): ListenAddress | string {
  const s = text.trim();
  let host: string;
  let portText: string;
  if (/^\d+$/.test(s)) {
    host = '127.0.0.1';
    portText = s;
  } else {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(s);
    if (!m) return `expected host:port like 127.0.0.1:9477 or [::1]:9477, got "${text}"`;
    host = (m[1] ?? m[2])!;
    portText = m[3]!;
    if (!parseIp(host) && host !== 'localhost') return `"${host}" is not an IP address (or localhost)`;
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port > 65535) return `port must be 0-65535 (0: any free port), got ${portText}`;
  return { host, port };
}

/** True for addresses only this host can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return /^127\./.test(host);
}
