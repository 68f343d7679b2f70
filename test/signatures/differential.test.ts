import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSignature } from '../../src/signatures/index.js';
import { UNPARSABLE, UNTRUSTED, type Signature } from '../../src/signatures/types.js';
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
