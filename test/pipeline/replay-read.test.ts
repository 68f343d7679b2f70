import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateLog } from '../../bench/logs.js';
import { parseIp } from '../../src/net/address.js';
import { CAUSE_COUNTERS } from '../../src/pipeline/address-tally.js';
import { prestartedWorkers, prestartReplayWorkers, replayWorkerScript, type ReplayWorkers } from '../../src/pipeline/parallel-read.js';
import { readMatches, startWorkers, type MatchSink, type ReadTuning } from '../../src/pipeline/replay-read.js';
import type { FormatName, SignatureSpec } from '../../src/signatures/index.js';
import { UNPARSABLE, UNTRUSTED, type MatchResult } from '../../src/signatures/types.js';
import { MAX_LINE_BYTES } from '../../src/sources/read-lines.js';

/*
 * Reading a plain file in pieces in worker threads must
 * give the sink exactly what reading it line by line gives: the same results,
 * in the same order, with the same lines, bytes and U+FFFD. Each case runs the
 * line-by-line reader and the piece readers on the same files and compares
 * every result; tiny pieces put piece boundaries on every line and inside lines.
 */
const dir = mkdtempSync(join(tmpdir(), 'blocker-replay-read-'));
const NOW = Date.UTC(2026, 10, 22, 12);
const FIXTURES = join(__dirname, '..', 'fixtures');
const REAL = readdirSync(join(FIXTURES, 'real'))
  .filter((f) => f.endsWith('.log'))
  .map((f) => join(FIXTURES, 'real', f));
const ADVERSARIAL = join(FIXTURES, 'adversarial', 'injection.log');

const NGINX_REGEX: SignatureSpec = {
  format: 'regex',
  pattern: '^(?<time>\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d) \\[\\w+\\] \\d+#\\d+: (?:\\*\\d+ )?(?<reason>.*) while SSL handshaking, client: <HOST>, server: \\S+$',
};
/** Matches a line of any length, so a line cut at MAX_LINE_BYTES shows what it was cut to. */
const LONG_REGEX: SignatureSpec = { format: 'regex', pattern: '^<HOST> fail(?<reason>.*)$' };
const STATELESS: (FormatName | SignatureSpec)[] = ['nginx', 'go', 'haproxy', 'caddy-json', 'dovecot', NGINX_REGEX];

interface Seen {
  lines: number;
  bytes: number;
  lastProgress: number | undefined;
  /** The tally per address, as sorted text. */
  tally?: string[];
  results: { format: string; r: Exclude<MatchResult, null> }[];
}

async function read(files: string[], spec: FormatName | SignatureSpec, tuning: Partial<ReadTuning>, early?: ReplayWorkers): Promise<Seen> {
  const seen: Seen = { lines: 0, bytes: 0, lastProgress: undefined, results: [] };
  const { bytes, tally } = await readMatches(
    files,
    spec,
    NOW,
    {
      lines: (n) => void (seen.lines += n),
      failure: (format, time, ip, reason, cause) => void seen.results.push({ format, r: { time, ip, reason, cause } }),
      unparsable: (format, untrusted) => void seen.results.push({ format, r: untrusted ? UNTRUSTED : UNPARSABLE }),
      bytes: (b) => void (seen.lastProgress = b),
    },
    { tuning, workers: early ?? null },
  );
  seen.bytes = bytes;
  seen.tally = [];
  for (let r = 0; r < tally.size; r++) {
    seen.tally.push(`${tally.ip(r).text} ${Array.from({ length: CAUSE_COUNTERS }, (_, i) => tally.count(r, i)).join(' ')}`);
  }
  seen.tally.sort();
  return seen;
}

const LINE_BY_LINE = { lineByLine: true };
const workers = (pieceBytes: number, count = 2) => ({ parallelFrom: 0, pieceBytes, workers: count });

/** Reads with every way given and expects each to see what the line-by-line reader sees. */
async function expectSame(files: string[], spec: FormatName | SignatureSpec, ways: Partial<ReadTuning>[]): Promise<Seen> {
  const want = await read(files, spec, LINE_BY_LINE);
  for (const way of ways) {
    const got = await read(files, spec, way);
    expect(got.lines, JSON.stringify(way)).toBe(want.lines);
    expect(got.bytes, JSON.stringify(way)).toBe(want.bytes);
    expect(got.lastProgress, JSON.stringify(way)).toBe(want.lastProgress);
    expect(got.results.length, JSON.stringify(way)).toBe(want.results.length);
    expect(got.results, JSON.stringify(way)).toEqual(want.results);
    expect(got.tally, JSON.stringify(way)).toEqual(want.tally);
  }
  return want;
}

const write = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const ng = (sec: number, ip: string, msg = 'SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)') =>
  `2026/11/22 02:00:${String(sec % 60).padStart(2, '0')} [info] 7#7: *${sec} ${msg} while SSL handshaking, client: ${ip}, server: 0.0.0.0:443`;

describe('reading in pieces', () => {
  it('runs the compiled worker (npm test builds it first)', () => {
    expect(existsSync(fileURLToPath(replayWorkerScript()))).toBe(true);
  });

  it('gives what line-by-line reading gives for every real and adversarial fixture, in every stateless format', async () => {
    const files = [...REAL, ADVERSARIAL];
    let recognised = 0;
    for (const spec of STATELESS) {
      const want = await expectSame(files, spec, [workers(1), workers(97, 3), workers(4096)]);
      recognised += want.results.length;
    }
    // The comparison means something only if the fixtures give results in these formats.
    expect(recognised).toBeGreaterThan(200);
  });

  it('gives what line-by-line reading gives for generated nginx and Go logs', async () => {
    const nginx = generateLog(join(dir, 'gen-nginx.log'), 'nginx', 20_000, 7).path;
    const go = generateLog(join(dir, 'gen-go.log'), 'go', 20_000, 8).path;
    const a = await expectSame([nginx], 'nginx', [workers(64 << 10), workers(3000, 3), workers(64 << 10, 1)]);
    const b = await expectSame([go], 'go', [workers(64 << 10), workers(3000, 3), workers(64 << 10, 1)]);
    expect(a.results.length).toBeGreaterThan(10_000);
    expect(b.results.length).toBeGreaterThan(10_000);
  });

  it('uses workers started beforehand, as many as were asked for, and closes them', async () => {
    const nginx = generateLog(join(dir, 'early-nginx.log'), 'nginx', 5000, 9).path;
    const small = write('early-small.log', `${ng(1, '198.51.100.1')}\n`);
    const want = await read([small, nginx], 'nginx', LINE_BY_LINE);
    const tuning = { ...workers(4096), parallelFrom: 100_000 };
    // Only a file that will be read in pieces wants them.
    expect(startWorkers([small], 'nginx', NOW, tuning)).toBeNull();
    expect(startWorkers([nginx], 'auto', NOW, tuning)).toBeNull();
    expect(startWorkers(['-', join(dir, 'no-such.log')], 'nginx', NOW, workers(4096))).toBeNull();
    const early = startWorkers([small, nginx], 'nginx', NOW, tuning)!;
    expect(early).not.toBeNull();
    const got = await read([small, nginx], 'nginx', tuning, early);
    expect(got.results).toEqual(want.results);
    expect(got.tally).toEqual(want.tally);
    // Closed by readMatches: asking them for more fails at once.
    await expect(early.addresses()).rejects.toThrow();
  });

  it('takes workers prestarted before anyone knew what they would match, which keep no process alive', async () => {
    const nginx = generateLog(join(dir, 'warm-nginx.log'), 'nginx', 3000, 11).path;
    const want = await read([nginx], 'nginx', LINE_BY_LINE);
    prestartReplayWorkers(1);
    expect(prestartedWorkers()).toBe(1);
    const got = await read([nginx], 'nginx', workers(4096, 1));
    expect(prestartedWorkers()).toBe(0);
    expect(got.results).toEqual(want.results);
    expect(got.tally).toEqual(want.tally);
    // A program that prestarts a worker and never takes it ends by itself.
    const script = `import(${JSON.stringify(new URL('../../dist/src/pipeline/parallel-read.js', import.meta.url).href)}).then((m) => m.prestartReplayWorkers(2))`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    expect(child.error).toBeUndefined();
    expect(child.status).toBe(0);
  });

  it('matches while the sink is still being made, delivers nothing before it is, and fails with it', async () => {
    const nginx = generateLog(join(dir, 'late-nginx.log'), 'nginx', 5000, 10).path;
    const want = await read([nginx], 'nginx', LINE_BY_LINE);
    const tuning = { ...workers(4096), ahead: 4 };
    let made = false;
    const got: unknown[] = [];
    const late = new Promise<MatchSink>((resolve) =>
      setTimeout(() => {
        made = true;
        resolve({
          lines: () => {},
          failure: (format, time, ip, reason, cause) => {
            expect(made).toBe(true);
            got.push({ format, r: { time, ip, reason, cause } });
          },
          unparsable: (format, untrusted) => void got.push({ format, r: untrusted ? UNTRUSTED : UNPARSABLE }),
        });
      }, 200),
    );
    await readMatches([nginx], 'nginx', NOW, late, { tuning });
    expect(got).toEqual(want.results);
    // A sink that cannot be made (check's config is bad): the read fails with its error, and ends.
    const bad = Promise.reject(new Error('config: policy.maxRetry: expected a number'));
    await expect(readMatches([nginx], 'nginx', NOW, bad, { tuning })).rejects.toThrow(/maxRetry/);
  });

  it('keeps CRLF, non-UTF-8 bytes, a missing final newline and empty files as line-by-line reading does', async () => {
    const crlf = write('crlf.log', [ng(1, '198.51.100.1'), ng(2, '198.51.100.2'), '2026/11/22 02:00:03 [notice] 7#7: x'].join('\r\n') + '\r\n');
    const bad = write(
      'bytes.log',
      Buffer.concat([
        Buffer.from(ng(3, '198.51.100.3', 'peer closed connection in SSL handshake \xff\xfe (104: Connection reset by peer)'), 'latin1'),
        Buffer.from('\n'),
        Buffer.from(ng(4, '198.51.100.4', 'peer closed connection in SSL handshake caf\u00e9')),
        Buffer.from('\n'),
        // A UTF-8 character cut in two by a newline: neither half is a character.
        Buffer.from([0xe2, 0x82, 0x0a, 0xac]),
        Buffer.from(`\n${ng(5, '2001:db8::5')}`), // no final newline
      ]),
    );
    const empty = write('empty.log', '');
    const newline = write('newline.log', '\n');
    const blank = write('blank.log', '\n\n' + ng(6, '198.51.100.6') + '\n\n');
    const files = [crlf, bad, empty, newline, blank];
    const want = await expectSame(files, 'nginx', [workers(1), workers(10), workers(150)]);
    // 198.51.100.4 and .6 are followed by lines that do not start like a record (the cut character, a blank line).
    expect(want.results.map(({ r }) => ('ip' in r ? r.ip.text : r))).toEqual(['198.51.100.3', UNTRUSTED, '2001:db8::5', UNTRUSTED]);
    expect(want.results.map(({ r }) => ('reason' in r ? r.reason : ''))[0]).toContain('\ufffd\ufffd');
    await expectSame(files, NGINX_REGEX, [workers(1), workers(33)]);
    // Go's reason runs to the end of the line, so there the CR is read (and trimmed).
    const goCrlf = write('crlf-go.log', ['2026/11/22 02:01:01 http: TLS handshake error from 198.51.100.8:4000: EOF', '2026/11/22 02:01:02 INFO x'].join('\r\n'));
    const go = await expectSame([goCrlf, bad, empty], 'go', [workers(1), workers(40)]);
    expect(go.results.map(({ r }) => ('reason' in r ? r.reason : r))).toEqual(['EOF']);
  });

  it('cuts lines longer than MAX_LINE_BYTES as line-by-line reading does, wherever the pieces fall', async () => {
    const long = 'y'.repeat(MAX_LINE_BYTES + 500);
    const p = write(
      'long.log',
      [
        '198.51.100.10 fail short',
        `198.51.100.11 fail${long}`,
        // A character of three bytes across the cut.
        `198.51.100.12 fail${'z'.repeat(MAX_LINE_BYTES - 19)}\u20ac and more`,
        '198.51.100.13 fail after',
        `198.51.100.14 fail${long}`, // the last line, cut and without a newline
      ].join('\n'),
    );
    const want = await expectSame([p], LONG_REGEX, [workers(1), workers(1000), workers(MAX_LINE_BYTES - 3), workers(MAX_LINE_BYTES + 30)]);
    expect(want.lines).toBe(5);
    const reasons = want.results.map(({ r }) => ('reason' in r ? r.reason : ''));
    expect(reasons.map((x) => x.length)).toEqual([5, MAX_LINE_BYTES - 18, MAX_LINE_BYTES - 18, 5, MAX_LINE_BYTES - 18]);
    expect(reasons[2]!.endsWith('\ufffd')).toBe(true);
  });

  it('matches the last line of a piece knowing the real next line, so a forged record stays untrusted', async () => {
    const forged = ng(9, '203.0.113.66');
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) {
      lines.push(ng(i, `198.51.100.${i % 250}`));
      // A request that put a newline into the log: the forged record, then the rest of the request.
      if (i % 7 === 0) lines.push('2026/11/22 02:00:09 [error] 7#7: *9 open() "/var/www/html/x', forged, '" failed (2: No such file or directory), client: 198.51.100.7');
      if (i % 11 === 0) lines.push(forged, '');
    }
    const p = write('forged.log', lines.join('\n') + '\n');
    const want = await expectSame([p], 'nginx', [workers(1), workers(50), workers(300, 3)]);
    expect(want.results.filter(({ r }) => r === UNTRUSTED)).toHaveLength(29 + 19);
    expect(want.results.some(({ r }) => 'ip' in r && r.ip.text === '203.0.113.66')).toBe(false);
  });

  it('rebuilds each address from its words as the one parseIp gives', async () => {
    const addrs = ['198.51.100.1', '2001:db8::1', '2001:db8:0:0:1::1', '::ffff:198.51.100.2', 'fe80::1:0:0:0', '2001:DB8::A', '::1', '::'];
    const p = write('addrs.log', addrs.map((a, i) => ng(i, a)).join('\n') + '\n');
    const got = await read([p], 'nginx', workers(1));
    expect(got.results.map(({ r }) => ('ip' in r ? r.ip : null))).toEqual(addrs.map((a) => parseIp(a)));
  });
});

describe('reading in workers that fail', () => {
  const big = () => write('fail.log', Array.from({ length: 300 }, (_, i) => ng(i, '198.51.100.1')).join('\n') + '\n');
  const script = (name: string) => new URL(`../fixtures/workers/${name}`, import.meta.url);

  it('rejects with the worker\'s error when a worker throws', async () => {
    await expect(read([big()], 'nginx', { ...workers(500), workerScript: script('throws.mjs') })).rejects.toThrow(/replay worker failed: signature blew up/);
  });

  it('rejects, not waits, when a worker exits', async () => {
    await expect(read([big()], 'nginx', { ...workers(500), workerScript: script('exits.mjs') })).rejects.toThrow(/replay worker stopped \(exit code 3\)/);
  });

  it('rejects when the worker script is missing', async () => {
    await expect(read([big()], 'go', { ...workers(500), workerScript: script('missing.mjs') })).rejects.toThrow(/replay worker failed/);
  });

  it('never uses workers for formats that join lines, for auto, nor for .gz', async () => {
    const p = big();
    for (const spec of ['auto', 'apache', 'postfix'] as const) {
      const got = await read([p], spec, { ...workers(500), workerScript: script('throws.mjs') });
      expect(got.lines, spec).toBe(300);
    }
    const gz = write('fail.log.gz', gzipSync(readFileSync(p)));
    const got = await read([gz], 'nginx', { ...workers(500), workerScript: script('throws.mjs') });
    expect(got.results).toHaveLength(300);
  });
});
