import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './run.js';

/** `blocker flush` with the dry-run backend standing in for the kernel (test/e2e covers the real ones). */
function setup(firewall: string) {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-flush-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `database: blocker.db\nfirewall: ${firewall}\n`);
  return config;
}

const listed = async (config: string) => (JSON.parse((await cli('list', '--json', '-c', config)).out) as { ip: string }[]).map((b) => b.ip);

describe('blocker flush', () => {
  it('--dry-run prints the removal of our table and leaves the bans alone', async () => {
    const config = setup('{ backend: nftables, table: mine }');
    expect((await cli('ban', '-c', config, '--dry-run', '198.51.100.7')).code).toBe(0);
    const r = await cli('flush', '-c', config, '--dry-run');
    expect(r).toMatchObject({ code: 0, out: "nft -f - <<'EOF'\nadd table inet mine\ndelete table inet mine\nEOF\n" });
    expect(r.err).toContain('would remove nftables table inet mine');
    expect(r.err).toContain('the database was left as it is');
    expect(await listed(config)).toEqual(['198.51.100.7']);
  });

  it('prints the ipset backend\'s removal when that is the configured backend', async () => {
    const config = setup('{ backend: ipset, iptables: legacy }');
    const r = await cli('flush', '-c', config, '--dry-run');
    expect(r.out).toContain('iptables-legacy -w -D INPUT -m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j DROP\n');
    expect(r.out).toContain("ipset restore -exist <<'EOF'\ndestroy blocker_v4\ndestroy blocker_v6\nEOF\n");
  });

  it('marks every active ban inactive', async () => {
    const config = setup('{ backend: dry-run }');
    await cli('ban', '-c', config, '198.51.100.7');
    await cli('ban', '-c', config, '2001:db8::/64', '--for', 'forever');
    expect((await listed(config)).length).toBe(2);
    const r = await cli('flush', '-c', config);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/marked 2 active ban\(s\) inactive/);
    expect(await listed(config)).toEqual([]);
  });
});
