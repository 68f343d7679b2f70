import type { Cause } from '../signatures/causes.js';
import type { AddressList } from './address-list.js';

/** What `blocker check` read, as far as the diagnoses need it. */
export interface DiagnoseInput {
  readonly lines: number;
  readonly matched: number;
  readonly unparsable: number;
  readonly untrusted: number;
  readonly byCause: Readonly<Record<Cause, number>>;
  /** Every address with a failure (address-list.ts). */
  readonly addresses: Pick<AddressList, 'size' | 'perCause' | 'top' | 'mostOf'>;
  readonly spared: readonly { readonly ip: string; readonly by: string }[];
  /** The format asked for, when one was. */
  readonly format?: string | undefined;
}

export interface Diagnosis {
  /** Stable identifier, for scripts. */
  readonly code:
    | 'no-failures'
    | 'certificate'
    | 'proxy-protocol'
    | 'sni'
    | 'tls-too-strict'
    | 'one-address'
    | 'protected-offenders'
    | 'unparsable'
    | 'injection';
  readonly message: string;
}

const pct = (n: number, of: number) => `${Math.round((100 * n) / of)}%`;

/**
 * Plain-language findings from the numbers alone: what the operator should
 * probably fix, as opposed to what the blocker will handle by banning.
 * Pure; thresholds are chosen so that a diagnosis needs clear evidence.
 */
export function diagnose(r: DiagnoseInput): Diagnosis[] {
  const out: Diagnosis[] = [];
  const total = r.matched;

  if (r.lines > 0 && total === 0 && r.unparsable === 0) {
    out.push({
      code: 'no-failures',
      message:
        `no handshake failures in ${r.lines} lines. If you expected some, check the format` +
        (r.format ? ` (read as ${r.format})` : '') +
        ' and the server\'s log level: nginx logs most handshake failures only at "info" (error_log … info;), ' +
        'Apache needs "LogLevel ssl:info", Caddy "level DEBUG".',
    });
  }
  if (total === 0) return finishUnparsable(r, out);

  const share = (c: Cause) => r.byCause[c] / total;
  // Each walks every address: asked only once the cause's share makes the finding possible.
  const withCause = (c: Cause) => r.addresses.perCause()[c];

  const cert = share('cert-rejected') >= 0.5 ? withCause('cert-rejected') : 0;
  if (cert >= 3) {
    out.push({
      code: 'certificate',
      message:
        `${pct(r.byCause['cert-rejected'], total)} of failures are cert-rejected, from ${cert} addresses: ` +
        'your certificate is probably invalid (expired, self-signed, wrong name or missing its chain) and clients refuse it.',
    });
  }

  const mismatchTotal = r.byCause['protocol-mismatch'];
  const top = mismatchTotal >= 5 ? r.addresses.mostOf('protocol-mismatch') : undefined;
  if (top) {
    const n = top.count;
    if (n / mismatchTotal >= 0.9) {
      out.push({
        code: 'proxy-protocol',
        message:
          `${n === mismatchTotal ? 'all' : pct(n, mismatchTotal) + ' of'} ${mismatchTotal} protocol-mismatch failures come from ${top.ip}: ` +
          'a proxy or load balancer in front is probably sending PROXY protocol (or plain HTTP) that this server does not expect.',
      });
    }
  }

  if (share('sni') >= 0.5 && r.byCause.sni >= 10) {
    out.push({
      code: 'sni',
      message:
        `${pct(r.byCause.sni, total)} of failures are about the server name (SNI): clients ask for a name this server has no ` +
        'certificate for. Check your server names and certificates, or whether a DNS name points here by mistake.',
    });
  }

  const vc = share('version-or-cipher') >= 0.5 ? withCause('version-or-cipher') : 0;
  if (vc >= 20) {
    out.push({
      code: 'tls-too-strict',
      message:
        `${pct(r.byCause['version-or-cipher'], total)} of failures, from ${vc} addresses, find no common TLS version or cipher: ` +
        'scanners do this, but if real clients are among them your protocol/cipher settings may be too strict for them.',
    });
  }

  const first = r.addresses.top(1)[0];
  if (first && r.addresses.size > 1 && first.failures >= 100 && first.failures / total >= 0.5) {
    out.push({
      code: 'one-address',
      message:
        `one address, ${first.ip}, makes ${pct(first.failures, total)} of all failures. ` +
        'If it is your own monitoring, a health check or a load balancer, add it to policy.allow.',
    });
  }

  const protectedIps = new Set(r.spared.map((s) => s.ip));
  if (protectedIps.size >= 3) {
    const by = [...new Set(r.spared.map((s) => s.by))].join(', ');
    out.push({
      code: 'protected-offenders',
      message:
        `${protectedIps.size} protected addresses (${by}) reached the threshold and were spared: ` +
        'traffic reaches you through them, so bans cannot stop it. Restrict your origin to the CDN or proxy instead.',
    });
  }
  return finishUnparsable(r, out);
}

function finishUnparsable(r: DiagnoseInput, out: Diagnosis[]): Diagnosis[] {
  if (r.untrusted > 0) {
    out.push({
      code: 'injection',
      message:
        `${r.untrusted} handshake line(s) were not trusted: the next line continued them, or they named a process that is not the server. ` +
        'Someone may be writing lines into your log through requests; see README, "Log injection".',
    });
  }
  const badAddress = r.unparsable - r.untrusted;
  if (badAddress > 0) {
    out.push({
      code: 'unparsable',
      message: `${badAddress} failure line(s) had no valid client address (e.g. "unknown", a unix socket, a zone id) and were not counted.`,
    });
  }
  return out;
}
