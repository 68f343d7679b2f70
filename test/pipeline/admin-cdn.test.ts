/**
 * `blocker cdn update` against a local HTTP server on loopback (never the
 * internet): good, empty, malformed, huge, shrunk and failing responses. A
 * good list is stored with its date and used at once (ban, check, a running
 * daemon); a bad one is refused and the last good list stays in force.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { parseCidr } from '../../src/net/address.js';
import { updateCdnLists } from '../../src/pipeline/cdn-update.js';
import { policyData, policyRules, withPolicyData } from '../../src/pipeline/rules.js';
import { protectedBy } from '../../src/policy/protected.js';
import { openStore } from '../../src/store/store.js';
import { cli } from '../cli/run.js';

const bundledFastly = (JSON.parse(readFileSync(join(import.meta.dirname, '../../data/cdn/fastly.json'), 'utf8')) as { ranges: string[] }).ranges;
const v4 = bundledFastly.filter((r) => !r.includes(':'));
const v6 = bundledFastly.filter((r) => r.includes(':'));
// A new edge range (TEST-NET-1) the bundled list does not have.
const NEW_RANGE = '192.0.2.0/24';

const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
  '/fastly/good': (res) => res.end(JSON.stringify({ addresses: [...v4, NEW_RANGE], ipv6_addresses: v6 })),
  '/fastly/empty': (res) => res.end(JSON.stringify({ addresses: [], ipv6_addresses: [] })),
  '/fastly/malformed': (res) => res.end(JSON.stringify({ addresses: [...v4, '151.101.0.0/16<script>'], ipv6_addresses: v6 })),
  '/fastly/html': (res) => res.end('<html><body>Service Unavailable</body></html>'),
  '/fastly/shrunk': (res) => res.end(JSON.stringify({ addresses: v4.slice(0, 5), ipv6_addresses: [] })),
  '/fastly/500': (res) => {
    res.statusCode = 500;
    res.end('oops');
  },
  // 17 MiB of valid-looking JSON, streamed without a length: cut off at the cap.
  '/fastly/huge': (res) => {
    res.write('{"addresses": [');
    const chunk = Buffer.from('"10.0.0.0/8",'.repeat(8192));
    let sent = 0;
    const more = () => {
      while (sent < 17 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end('"10.0.0.0/8"]}');
    };
    res.on('error', () => {});
    more();
  },
  '/cf/v4': (res) => res.end('173.245.48.0/20\n103.21.244.0/22\n103.22.200.0/22\n103.31.4.0/22\n141.101.64.0/18\n108.162.192.0/18\n190.93.240.0/20\n188.114.96.0/20\n197.234.240.0/22\n198.41.128.0/17\n162.158.0.0/15\n104.16.0.0/13\n104.24.0.0/14\n172.64.0.0/13\n131.0.72.0/22\n'),
  '/cf/v6': (res) => res.end('2400:cb00::/32\n2606:4700::/32\n2803:f800::/32\n2405:b500::/32\n2405:8100::/32\n2a06:98c0::/29\n2c0f:f248::/32\n'),
  '/aws': (res) =>
    res.end(
      JSON.stringify({
        createDate: '2026-11-21-08-00-00',
        prefixes: [
          ...Array.from({ length: 200 }, (_, i) => ({ ip_prefix: `${10 + (i >> 8)}.${i & 255}.0.0/16`, region: 'GLOBAL', service: 'CLOUDFRONT' })),
          { ip_prefix: '52.95.0.0/16', region: 'us-east-1', service: 'AMAZON' },
        ],
        ipv6_prefixes: [{ ipv6_prefix: '2600:9000:1000::/36', region: 'GLOBAL', service: 'CLOUDFRONT' }],
      }),
    ),
};

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (route) route(res);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  // Loopback only.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-cdn-'));
  dirs.push(dir);
  const config = join(dir, 'config.yaml');
  const write = (fastly: string) =>
    writeFileSync(
      config,
      `database: blocker.db
policy:
  cdn: [cloudflare, fastly]
  cdnUrls:
    cloudflare: ["${base}/cf/v4", "${base}/cf/v6"]
    fastly: ["${base}${fastly}"]
    cloudfront: ["${base}/aws"]
firewall: { backend: dry-run }
`,
    );
  write('/fastly/good');
  return { dir, config, write };
}

interface Row {
  provider: string;
  selected: boolean;
  origin: string;
  asOf: string;
  ranges: number;
}
const cdnList = async (config: string) => JSON.parse((await cli('cdn', 'list', '-c', config, '--json')).out) as Row[];
const today = () => new Date().toISOString().slice(0, 10);

describe('blocker cdn update (local HTTP server on loopback)', () => {
  it('stores good lists with their date, and they are in force at once', async () => {
    const { config, dir } = setup();
    expect((await cdnList(config)).map((r) => [r.provider, r.selected, r.origin])).toEqual([
      ['cloudflare', true, 'bundled'],
      ['fastly', true, 'bundled'],
      ['cloudfront', false, 'bundled'],
    ]);
    const r = await cli('cdn', 'update', '-c', config);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`cloudflare: 22 ranges as of ${today()} (was 22: +0 -0)`);
    expect(r.out).toContain(`fastly: 22 ranges as of ${today()} (was 21: +1 -0)`);
    const rows = await cdnList(config);
    expect(rows.find((x) => x.provider === 'fastly')).toMatchObject({ origin: 'fetched', asOf: today(), ranges: 22 });

    // ban refuses the new edge range; check spares it.
    const ban = await cli('ban', '-c', config, '192.0.2.10');
    expect(ban.code).toBe(2);
    expect(ban.err).toContain(`protected by cdn:fastly (${NEW_RANGE})`);
    const log = join(dir, 'go.log');
    writeFileSync(log, Array.from({ length: 5 }, (_, i) => `2026/11/01 00:00:0${i} http: TLS handshake error from 192.0.2.10:${4000 + i}: EOF\n`).join(''));
    const check = JSON.parse((await cli('check', '-c', config, '--json', log)).out) as { bans: unknown[]; spared: { ip: string; by: string; note: string }[] };
    expect(check.bans).toEqual([]);
    expect(check.spared).toEqual([
      expect.objectContaining({ ip: '192.0.2.10', by: 'cdn:fastly', note: 'via CDN — not banned; restrict the origin to the CDN instead' }),
    ]);
  });

  it("reads CloudFront's entries out of AWS's ip-ranges.json, dated by its createDate", async () => {
    const { config } = setup();
    const r = await cli('cdn', 'update', '-c', config, 'cloudfront', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      expect.objectContaining({ provider: 'cloudfront', ok: true, asOf: '2026-11-21', ranges: 201, previous: 230 }),
    ]);
  });

  it.each([
    ['/fastly/empty', /the fetched list is empty/],
    ['/fastly/malformed', /entry 20 "151\.101\.0\.0\/16<script>" is not a network in CIDR form/],
    ['/fastly/html', /not JSON/],
    ['/fastly/huge', /more than the 16777216 bytes accepted/],
    ['/fastly/500', /HTTP 500/],
    ['/fastly/missing', /HTTP 404/],
    ['/fastly/shrunk', /has 5 ranges, the one in force 22: refusing a list that shrank by more than half \(use --force/],
  ])('refuses %s and keeps the last good list', async (path, why) => {
    const { config, write } = setup();
    expect((await cli('cdn', 'update', '-c', config, 'fastly')).code).toBe(0);
    write(path);
    const r = await cli('cdn', 'update', '-c', config, 'fastly');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^fastly: not updated, keeping the last good list \(22 ranges\): /);
    expect(r.err).toMatch(why);
    expect((await cdnList(config)).find((x) => x.provider === 'fastly')).toMatchObject({ origin: 'fetched', ranges: 22 });
  }, 30_000);

  it('one provider failing does not stop the others; --force accepts a shrunk list', async () => {
    const { config, write } = setup();
    write('/fastly/shrunk');
    const r = await cli('cdn', 'update', '-c', config);
    expect(r.code).toBe(1);
    expect(r.out).toContain('cloudflare: 22 ranges');
    expect(r.err).toContain('fastly: not updated');
    const forced = await cli('cdn', 'update', '-c', config, 'fastly', '--force');
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toContain('fastly: 5 ranges');
  });

  it('a server that does not answer is a clear error', async () => {
    const { config } = setup();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    writeFileSync(config, readFileSync(config, 'utf8').replace(/fastly: \[.*\]/, `fastly: ["http://127.0.0.1:${port}/x"]`));
    const r = await cli('cdn', 'update', '-c', config, 'fastly');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ECONNREFUSED/);
  });

  it('rejects unknown providers and bad URLs in the config', async () => {
    const { config } = setup();
    expect(await cli('cdn', 'update', '-c', config, 'akamai')).toMatchObject({ code: 2, err: expect.stringContaining('unknown CDN provider "akamai"') });
    writeFileSync(config, readFileSync(config, 'utf8').replace(/fastly: \[.*\]/, 'fastly: ["ftp://example.org/x"]'));
    expect(await cli('cdn', 'list', '-c', config)).toMatchObject({ code: 2, err: expect.stringContaining('policy.cdnUrls.fastly.0') });
  });

  it('a running daemon would use the new list: withPolicyData swaps the CDN ranges in', async () => {
    const { config, dir } = setup();
    const cfg = parseConfig(
      { database: join(dir, 'blocker.db'), policy: { cdn: ['fastly'], cdnUrls: { fastly: [`${base}/fastly/good`] } } },
      config,
    );
    const store = openStore(cfg.database);
    try {
      const before = policyRules(cfg, policyData(store));
      const ip = parseCidr('192.0.2.10')!;
      expect(protectedBy(before.protect, ip)).toBeNull();
      const rev = store.revisions.current();
      const [res] = await updateCdnLists(store, cfg, ['fastly'], { now: Date.now() });
      expect(res).toMatchObject({ ok: true });
      expect(store.revisions.current()).not.toBe(rev);
      expect(protectedBy(withPolicyData(before, policyData(store)).protect, ip)).toBe('cdn:fastly');
    } finally {
      store.close();
    }
  });
});
