import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSignature } from '../../src/signatures/index.js';
import { ipFromWords } from '../../src/net/address.js';
import {
  BYTES_DEFER,
  BYTES_FAILURE,
  BYTES_NONE,
  BYTES_UNPARSABLE,
  BYTES_UNTRUSTED,
  UNPARSABLE,
  UNTRUSTED,
  type ByteFailure,
  type Signature,
} from '../../src/signatures/types.js';
import { differentialCorpus, resultKey } from './differential-corpus.js';

/*
 * The nginx and Go signatures are tuned by hand for speed; this pins down that
 * no such change alters a single result. Every fixture line and 250,000
 * seeded mutations of them and of hand-written templates (random edits,
 * truncations, fields written twice, inserted ", client: …" / ", server: …",
 * raw newlines, non-ASCII, IPv6 forms, syslog prefixes, odd next lines) go
 * through each signature, and the digest of all results must equal the one
 * recorded below.
 *
 * Why the recorded digests can be trusted: they were computed by the
 * implementation of commit 8173ad6, the one that the adversarial tests
 * (adversarial.test.ts), the real-server fixtures (real-fixtures.test.ts) and
 * formats.test.ts all vouch for, before any of the speed work. The tallies are
 * recorded alongside so a mismatch says at once what kind of result moved;
 * a deliberate change of behaviour must come with new digests and the reason
 * in its commit message, never with digests copied blindly from a failing run.
 * The corpus is built from the fixture files too: if they are regenerated,
 * record the digests again with the code of the last commit that passed.
 */
const NOW = Date.UTC(2026, 10, 22, 12);
const CORPUS = differentialCorpus(join(__dirname, '..', 'fixtures'), 250_000);

function run(make: () => Signature): { digest: string; tally: Record<string, number> } {
  const hash = createHash('sha256');
  const tally: Record<string, number> = { N: 0, U: 0, T: 0, F: 0 };
  let sig = make();
  for (let i = 0; i < CORPUS.length; i++) {
    // A fresh signature now and then: results must not depend on what its memos hold.
    if (i % 50_000 === 0) sig = make();
    const { line, next } = CORPUS[i]!;
    const key = resultKey(sig.match(line, next), UNPARSABLE, UNTRUSTED);
    tally[key[0]!]!++;
    hash.update(key);
    hash.update('\n');
  }
  return { digest: hash.digest('hex'), tally };
}

describe('nginx and go signatures, differential', () => {
  it('nginx gives exactly the recorded results', () => {
    const { digest, tally } = run(() => createSignature('nginx', { now: NOW }));
    expect(tally).toEqual({ N: 211779, U: 3237, T: 13694, F: 22199 });
    expect(digest).toBe('634c69a2fb3c7d1296a0962e0313b014af4f955b69d9d072b735b3635ef4399f');
  });

  it('nginx with a worker check gives exactly the recorded results', () => {
    const { digest, tally } = run(() => createSignature({ format: 'nginx', checkPid: true }, { now: NOW, isNginxWorker: (pid) => pid % 3 !== 0 }));
    expect(tally).toEqual({ N: 211779, U: 2961, T: 17386, F: 18783 });
    expect(digest).toBe('84096727491a9d18b344cc56d16a7a69d3bfa5f2784d22505d84ab80a552e114');
  });

  it('go gives exactly the recorded results', () => {
    const { digest, tally } = run(() => createSignature('go', { now: NOW }));
    expect(tally).toEqual({ N: 213009, U: 4188, T: 6553, F: 27159 });
    expect(digest).toBe('13d482d9f7e40f0e76405c24a793fcb1dae0bfa707b5fd1a0040b5890650efef');
  });
});

/**
 * What the byte path (matchBytes) answers for one pair, laid out as a worker's
 * read buffer lays it out, as a key comparable with resultKey's: null when
 * it leaves the line to match(), or the line is not ASCII (it never sees those).
 */
function byteKey(sig: Signature, line: string, next: string | undefined): string | null {
  if (!/^[\x00-\x7f]*$/.test(line)) return null;
  const buf = Buffer.from(next === undefined ? line : `${line}\n${next}\n`, 'utf8');
  const e = line.length;
  const nextEnd = next === undefined ? -1 : buf.length - 1;
  const out: ByteFailure = { time: null, family: 4, w0: 0, w1: 0, w2: 0, w3: 0, reason: '', cause: 'other' };
  const code = sig.matchBytes!(buf, 0, e, next === undefined ? -1 : e + 1, nextEnd, out);
  if (code === BYTES_DEFER) return null;
  if (code === BYTES_NONE) return 'N';
  if (code === BYTES_UNPARSABLE) return 'U';
  if (code === BYTES_UNTRUSTED) return 'T';
  expect(code).toBe(BYTES_FAILURE);
  const ip = ipFromWords(out.family, out.w0, out.w1, out.w2, out.w3);
  return resultKey({ time: out.time, ip, reason: out.reason, cause: out.cause }, UNPARSABLE, UNTRUSTED);
}

describe('nginx and go byte paths, differential', () => {
  for (const format of ['nginx', 'go'] as const) {
    it(`${format}: matchBytes answers what match() answers, on every ASCII pair of the corpus it does not leave to match()`, () => {
      const answered: Record<string, number> = { N: 0, U: 0, T: 0, F: 0 };
      let left = 0;
      let text = createSignature(format, { now: NOW });
      let bytes = createSignature(format, { now: NOW });
      for (let i = 0; i < CORPUS.length; i++) {
        if (i % 50_000 === 0) {
          text = createSignature(format, { now: NOW });
          bytes = createSignature(format, { now: NOW });
        }
        const { line, next } = CORPUS[i]!;
        const got = byteKey(bytes, line, next);
        if (got === null) {
          left++;
          continue;
        }
        answered[got[0]!]!++;
        const want = resultKey(text.match(line, next), UNPARSABLE, UNTRUSTED);
        if (got !== want) expect({ line, next, got }).toEqual({ line, next, got: want });
      }
      // Not vacuous: the byte path answered many pairs itself, of each kind it gives (counted
      // when written: nginx 12,717 failures, 1,374 untrusted, 107,178 others; go 2,076 and 151,848).
      expect(answered.F).toBeGreaterThan(format === 'nginx' ? 10_000 : 1500);
      expect(answered.N).toBeGreaterThan(100_000);
      if (format === 'nginx') expect(answered.T).toBeGreaterThan(1000);
      expect(left).toBeLessThan(CORPUS.length * 0.55);
    });
  }
});

describe('byte paths and a next line that is not ASCII', () => {
  // The first 19 bytes of the next line decide whether it starts a record; decoded, a multi-byte
  // character there moves every later character, and an invalid byte becomes U+FFFD.
  const nexts = [
    Buffer.from('2\u00e96/11/22 02:40:11 [info] 1#1: x', 'utf8'),
    Buffer.concat([Buffer.from('2026/1'), Buffer.from([0xff]), Buffer.from('/22 02:40:11 http: x')]),
    Buffer.concat([Buffer.from('20'), Buffer.from([0xc3, 0xa9]), Buffer.from('/11/22 02:40:11 x')]),
    Buffer.from('2026/11/22 02:40:1\u00e9 x', 'utf8'),
    Buffer.from('2026/11/22 02:40:11 caf\u00e9 is fine after the stamp', 'utf8'),
  ];
  const lines = {
    nginx: '2026/11/22 02:40:11 [info] 77#77: *3 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: 203.0.113.66, server: 0.0.0.0:443',
    go: '2026/11/22 02:40:11 http: TLS handshake error from 203.0.113.66:4000: EOF',
  };
  for (const format of ['nginx', 'go'] as const) {
    it(`${format}: answers as match() on the decoded lines, or leaves the line to it`, () => {
      const kinds = new Set<string>();
      for (const next of nexts) {
        const sig = createSignature(format, { now: NOW });
        const line = lines[format];
        const want = resultKey(sig.match(line, next.toString('utf8')), UNPARSABLE, UNTRUSTED);
        kinds.add(want[0]!);
        const buf = Buffer.concat([Buffer.from(`${line}\n`), next, Buffer.from('\n')]);
        const out: ByteFailure = { time: null, family: 4, w0: 0, w1: 0, w2: 0, w3: 0, reason: '', cause: 'other' };
        const code = sig.matchBytes!(buf, 0, line.length, line.length + 1, buf.length - 1, out);
        if (code === BYTES_DEFER) continue;
        const got =
          code === BYTES_FAILURE
            ? resultKey({ time: out.time, ip: ipFromWords(out.family, out.w0, out.w1, out.w2, out.w3), reason: out.reason, cause: out.cause }, UNPARSABLE, UNTRUSTED)
            : code === BYTES_UNTRUSTED
              ? 'T'
              : code === BYTES_UNPARSABLE
                ? 'U'
                : 'N';
        expect(got, next.toString('latin1')).toBe(want);
      }
      // The cases mean something: some of these next lines make the record untrusted, one does not.
      expect([...kinds].sort()).toEqual(['F', 'T']);
    });
  }
});
