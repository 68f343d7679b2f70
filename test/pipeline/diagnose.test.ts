import { describe, expect, it } from 'vitest';
import { diagnose, type DiagnoseInput } from '../../src/pipeline/diagnose.js';
import { parseIp } from '../../src/net/address.js';
import { AddressList } from '../../src/pipeline/address-list.js';
import { AddressTally, CAUSE_COUNTERS } from '../../src/pipeline/address-tally.js';
import { causeIndex, CAUSES, type Cause } from '../../src/signatures/causes.js';

const none = Object.fromEntries(CAUSES.map((c) => [c, 0])) as Record<Cause, number>;

/** A report from per-address cause counts, tallied as check tallies them. */
function input(ips: [string, Partial<Record<Cause, number>>][], extra: Partial<DiagnoseInput> = {}): DiagnoseInput {
  const byCause = { ...none };
  const tally = new AddressTally(CAUSE_COUNTERS);
  let matched = 0;
  for (const [text, causes] of ips) {
    const ip = parseIp(text)!;
    for (const [c, n] of Object.entries(causes) as [Cause, number][]) {
      byCause[c] += n;
      matched += n;
      for (let k = 0; k < n; k++) tally.bump(ip.family, ip.w0, ip.w1, ip.w2, ip.w3, causeIndex(c), CAUSES.length);
    }
  }
  return { lines: matched * 2, matched, unparsable: 0, untrusted: 0, byCause, addresses: new AddressList(tally), spared: [], ...extra };
}
const codes = (i: DiagnoseInput) => diagnose(i).map((d) => d.code);

describe('diagnose', () => {
  it('says the certificate is probably broken when most failures are cert-rejected from many addresses', () => {
    const i = input([
      ...Array.from({ length: 20 }, (_, k) => [`198.51.100.${k + 1}`, { 'cert-rejected': 10 }] as [string, Partial<Record<Cause, number>>]),
      ['203.0.113.1', { eof: 15 }],
    ]);
    const d = diagnose(i);
    expect(d.map((x) => x.code)).toEqual(['certificate']);
    expect(d[0]!.message).toMatch(/^93% of failures are cert-rejected, from 20 addresses: your certificate is probably invalid/);
    // A few clients refusing it is not evidence.
    expect(codes(input([['198.51.100.1', { 'cert-rejected': 50 }], ['198.51.100.2', { eof: 10 }]]))).toEqual([]);
  });

  it('points at a proxy sending PROXY protocol when protocol mismatches come from one address', () => {
    const d = diagnose(input([['10.0.0.5', { 'protocol-mismatch': 40 }], ['203.0.113.7', { eof: 3 }]]));
    expect(d.find((x) => x.code === 'proxy-protocol')?.message).toBe(
      'all 40 protocol-mismatch failures come from 10.0.0.5: a proxy or load balancer in front is probably sending PROXY protocol (or plain HTTP) that this server does not expect.',
    );
    // Spread over many scanners: no diagnosis.
    const spread = input(Array.from({ length: 10 }, (_, k) => [`203.0.113.${k}`, { 'protocol-mismatch': 2 }] as [string, Partial<Record<Cause, number>>]));
    expect(codes(spread)).toEqual([]);
  });

  it('reports SNI trouble, strict TLS settings, one dominant address and protected offenders', () => {
    expect(codes(input([['198.51.100.1', { sni: 30 }], ['198.51.100.2', { eof: 5 }]]))).toContain('sni');
    const strict = input(Array.from({ length: 25 }, (_, k) => [`198.51.100.${k}`, { 'version-or-cipher': 4 }] as [string, Partial<Record<Cause, number>>]));
    expect(codes(strict)).toEqual(['tls-too-strict']);
    expect(codes(input([['198.51.100.1', { eof: 150 }], ['198.51.100.2', { eof: 20 }]]))).toEqual(['one-address']);
    const spared = input([['104.16.1.1', { eof: 5 }]], {
      spared: [
        { ip: '104.16.1.1', by: 'cdn:cloudflare' },
        { ip: '104.16.1.2', by: 'cdn:cloudflare' },
        { ip: '104.16.1.3', by: 'cdn:cloudflare' },
      ],
    });
    expect(codes(spared)).toEqual(['protected-offenders']);
  });

  it('explains an empty result and lines it could not use', () => {
    expect(diagnose({ ...input([]), lines: 500, format: 'nginx' })[0]!.message).toMatch(
      /^no handshake failures in 500 lines\. If you expected some, check the format \(read as nginx\) and the server's log level: nginx logs most handshake failures only at "info"/,
    );
    expect(codes(input([['198.51.100.1', { eof: 1 }]], { unparsable: 5, untrusted: 2 }))).toEqual(['injection', 'unparsable']);
    expect(codes({ ...input([]), lines: 0 })).toEqual([]);
  });
});
