import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Cause } from '../../src/signatures/causes.js';
import { createSignature, type FormatName } from '../../src/signatures/index.js';
import { isFailure, type Failure } from '../../src/signatures/types.js';

/*
 * Logs written by real servers (scripts/regen-fixtures.sh): each provoked
 * failure ("case") is listed in <server>.cases.tsv with the log lines it
 * produced. The tables below say, by hand, what each case must be read as:
 * one failure from the case's client with this cause, or nothing (null) when
 * the server logs no handshake failure for it (or logs one we must not count,
 * like nginx's own upstream failures).
 */
const DIR = join(__dirname, '..', 'fixtures', 'real');

type Mode =
  | 'close' | 'hold' | 'hello-close' | 'bad-key-share' | 'bad-key-length' | 'tls10' | 'no-cipher' | 'legacy13'
  | 'sslv2' | 'plain-http' | 'proxy-v1' | 'proxy-v2' | 'random' | 'unknown-sni' | 'reject-cert' | 'upstream';
type Expected = Partial<Record<Mode, Cause | null>>;

const OPENSSL_SERVER: Expected = {
  close: 'eof',
  'hello-close': 'eof',
  'bad-key-share': 'bad-key-share',
  'bad-key-length': 'bad-key-share',
  tls10: 'version-or-cipher',
  'no-cipher': 'version-or-cipher',
  sslv2: 'version-or-cipher',
  'reject-cert': 'cert-rejected',
};
const GO_SERVER: Expected = {
  close: 'eof',
  hold: 'eof',
  'hello-close': 'eof',
  'bad-key-share': 'bad-key-share',
  'bad-key-length': 'bad-key-share',
  tls10: 'version-or-cipher',
  'no-cipher': 'version-or-cipher',
  legacy13: 'version-or-cipher',
  sslv2: 'version-or-cipher',
  'plain-http': null, // Go answers 400 and logs nothing
  'proxy-v1': 'protocol-mismatch',
  'proxy-v2': 'protocol-mismatch',
  random: 'protocol-mismatch',
  'unknown-sni': 'eof', // the test server has one certificate for any name; the client then stops
  'reject-cert': 'other', // "local error: tls: bad record MAC": OpenSSL's alert after TLS 1.3 keys changed
};

const MAIL_SERVER: Expected = {
  ...OPENSSL_SERVER,
  hold: 'eof',
  legacy13: 'eof',
  'plain-http': 'protocol-mismatch',
  'proxy-v1': 'protocol-mismatch',
  'proxy-v2': 'protocol-mismatch',
  random: 'protocol-mismatch',
  'unknown-sni': 'eof',
};

const TARGETS: Record<string, { format: FormatName; expected: Expected }> = {
  'nginx-http': {
    format: 'nginx',
    expected: {
      ...OPENSSL_SERVER,
      hold: 'eof',
      legacy13: 'eof', // OpenSSL waits for more; nginx times the client out
      'plain-http': 'protocol-mismatch', // "client sent plain HTTP request to HTTPS port"
      'proxy-v1': 'protocol-mismatch', // "client sent invalid request … request: "PROXY TCP4 …""
      'proxy-v2': null, // "client sent invalid method": indistinguishable from any garbage on any port
      random: null,
      'unknown-sni': 'eof',
    },
  },
  'nginx-reject': {
    format: 'nginx',
    expected: {
      close: 'eof',
      hold: 'eof',
      'hello-close': 'eof',
      'bad-key-share': 'version-or-cipher', // the certificate-less default server has no cipher for it
      'bad-key-length': 'eof',
      tls10: 'version-or-cipher',
      'no-cipher': 'version-or-cipher',
      legacy13: 'eof',
      sslv2: 'sni', // no SNI at all: "handshake rejected" by ssl_reject_handshake
      'plain-http': 'protocol-mismatch',
      'proxy-v1': 'protocol-mismatch',
      'proxy-v2': null,
      random: null,
      'unknown-sni': 'sni',
      'reject-cert': 'cert-rejected',
    },
  },
  'nginx-stream': {
    format: 'nginx',
    expected: {
      ...OPENSSL_SERVER,
      hold: null, // the stream module logs no handshake timeout
      legacy13: null,
      'plain-http': 'protocol-mismatch',
      'proxy-v1': 'protocol-mismatch',
      'proxy-v2': 'protocol-mismatch',
      random: 'protocol-mismatch',
      'unknown-sni': null,
    },
  },
  // A plain-HTTP server proxying to an upstream that does not speak TLS: nothing here is a client's
  // handshake failure, except a PROXY header it was not told to expect (the misconfigured-proxy case).
  'nginx-proxy': {
    format: 'nginx',
    expected: {
      ...Object.fromEntries(
        ['close', 'hold', 'hello-close', 'bad-key-share', 'bad-key-length', 'tls10', 'no-cipher', 'legacy13', 'sslv2', 'plain-http', 'proxy-v2', 'random', 'unknown-sni', 'reject-cert', 'upstream'].map((m) => [m, null]),
      ),
      'proxy-v1': 'protocol-mismatch',
    },
  },
  // HAProxy 2.6 says only "SSL handshake failure" (2.8+ appends OpenSSL's reason: see signatures.test.ts).
  haproxy: {
    format: 'haproxy',
    expected: {
      close: 'eof',
      hold: 'eof',
      'hello-close': 'other',
      'bad-key-share': 'other',
      'bad-key-length': 'other',
      tls10: 'other',
      'no-cipher': 'other',
      legacy13: 'eof',
      sslv2: 'other',
      'plain-http': 'other',
      'proxy-v1': 'other',
      'proxy-v2': 'other',
      random: 'other',
      'unknown-sni': 'eof',
      'reject-cert': 'other',
    },
  },
  apache: {
    format: 'apache',
    expected: {
      ...OPENSSL_SERVER,
      hold: 'eof',
      legacy13: 'eof',
      'plain-http': 'protocol-mismatch', // AH01996 "HTTP spoken on HTTPS port"
      'proxy-v1': 'protocol-mismatch',
      'proxy-v2': 'protocol-mismatch',
      random: 'protocol-mismatch',
      'unknown-sni': 'eof',
    },
  },
  caddy: { format: 'caddy-json', expected: GO_SERVER },
  go: { format: 'go', expected: GO_SERVER },
  // Dovecot 2.3 (imaps) and Postfix 3.7 (smtps), both OpenSSL 3 servers that log every failure.
  dovecot: { format: 'dovecot', expected: MAIL_SERVER },
  postfix: { format: 'postfix', expected: { ...MAIL_SERVER, tls10: 'version-or-cipher', sslv2: 'version-or-cipher' } },
  // STARTTLS on port 25-style: EHLO, STARTTLS, then the failure.
  'postfix-starttls': {
    format: 'postfix',
    expected: {
      close: 'eof', // "lost connection after STARTTLS": no handshake at all
      'hello-close': 'eof',
      'bad-key-share': 'bad-key-share',
      'no-cipher': 'version-or-cipher',
      'plain-http': 'protocol-mismatch',
      'reject-cert': 'cert-rejected',
    },
  },
};

interface Case {
  mode: Mode;
  client: string;
  first: number;
  last: number;
}

function casesOf(target: string): Case[] {
  const rows = readFileSync(join(DIR, `${target}.cases.tsv`), 'utf8').trim().split('\n').slice(1);
  return rows.map((r) => {
    const [mode, , client, first, last] = r.split('\t');
    return { mode: mode as Mode, client: client!, first: Number(first), last: Number(last) };
  });
}

/** Every failure read from the log, with the (1-based) line it completed on. */
function readLog(target: string, format: FormatName): { line: number; failure: Failure }[] {
  const lines = readFileSync(join(DIR, `${target}.log`), 'latin1').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const sig = createSignature(format, { now: Date.UTC(2026, 11, 31) });
  const out: { line: number; failure: Failure }[] = [];
  lines.forEach((l, i) => {
    const r = sig.match(l, lines[i + 1]);
    expect(r === null || isFailure(r), `line ${i + 1} must parse: ${l}`).toBe(true);
    if (isFailure(r)) out.push({ line: i + 1, failure: r });
  });
  return out;
}

describe('logs of real servers (test/fixtures/real)', () => {
  for (const [target, { format, expected }] of Object.entries(TARGETS)) {
    for (const as of [format, 'auto'] as const) {
      it(`${target} read as ${as}: each provoked failure once, from its client, with its cause`, () => {
        const failures = readLog(target, as);
        const cases = casesOf(target);
        expect(cases.length).toBeGreaterThanOrEqual(target === 'postfix-starttls' ? 12 : 30);
        const seen = new Set<number>();
        for (const c of cases) {
          const want = expected[c.mode];
          expect(want, `${target}: no expectation written for ${c.mode}`).not.toBeUndefined();
          const got = failures.filter((f) => f.line >= c.first && f.line <= c.last);
          got.forEach((f) => seen.add(f.line));
          const summary = got.map((f) => `${f.failure.ip.text} ${f.failure.cause} (${f.failure.reason})`);
          if (want === null) expect(summary, `${target} ${c.mode} from ${c.client}`).toEqual([]);
          else {
            expect(summary.length, `${target} ${c.mode} from ${c.client}: ${summary.join('; ')}`).toBe(1);
            expect(got[0]!.failure.ip.text).toBe(c.client);
            expect(got[0]!.failure.cause, `${target} ${c.mode}: ${got[0]!.failure.reason}`).toBe(want);
            expect(got[0]!.failure.time).toEqual(expect.any(Number));
          }
        }
        // Nothing outside the cases (start-up messages and the like) counts; Postfix's two
        // listeners write one log, so each target's lines include the other's cases.
        const sibling = target === 'postfix' ? 'postfix-starttls' : target === 'postfix-starttls' ? 'postfix' : null;
        const others = sibling ? casesOf(sibling) : [];
        const outside = failures.filter((f) => !seen.has(f.line) && !others.some((c) => f.line >= c.first && f.line <= c.last));
        expect(outside).toEqual([]);
      });
    }
  }
});
