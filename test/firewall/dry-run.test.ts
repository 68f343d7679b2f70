import { describe, expect, it } from 'vitest';
import { firewallSchema } from '../../src/config/schema.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createBackend } from '../../src/firewall/index.js';
import { parseCidr } from '../../src/net/address.js';

const e = (s: string, ttlMs: number | null) => ({ net: parseCidr(s)!, ttlMs });

describe('dry-run backend', () => {
  it('prints the nft script of a fresh host first, then only what changes', async () => {
    const out: string[] = [];
    const b = createDryRunBackend('blocker', (t) => out.push(t));
    expect(b.name).toBe('dry-run');
    await b.check();
    const r = await b.reconcile([e('198.51.100.7', 60_000)]);
    expect(r).toMatchObject({ added: 1, recreated: true });
    expect(out[0]).toMatch(/^nft -f - <<'EOF'\nadd table inet blocker\n[\s\S]*add element inet blocker v4 \{ 198\.51\.100\.7 timeout 60s \}\nEOF\n$/);
    expect(await b.reconcile([e('198.51.100.7', 60_000)])).toMatchObject({ added: 0, removed: 0, recreated: false });
    expect(out.length).toBe(1);
    const r3 = await b.reconcile([e('198.51.100.8', null)]);
    expect(r3).toMatchObject({ added: 1, removed: 1 });
    expect(out[1]).toContain('delete element inet blocker v4 { 198.51.100.7 }');
    await b.flush();
    expect(out[2]).toBe("nft -f - <<'EOF'\nadd table inet blocker\ndelete table inet blocker\nEOF\n");
  });

  it('prints the ipset and iptables commands when the chosen backend is ipset', async () => {
    const out: string[] = [];
    const cfg = firewallSchema.parse({ backend: 'dry-run', dryRunOf: 'ipset', iptables: 'legacy' });
    const b = createBackend(cfg, (t) => out.push(t));
    await b.reconcile([e('198.51.100.7', 60_000), e('2001:db8::/64', null)]);
    expect(out).toEqual([
      [
        "ipset restore -exist <<'EOF'",
        'create blocker_v4 hash:net family inet hashsize 1024 maxelem 1048576 timeout 0',
        'add blocker_v4 198.51.100.7 timeout 60',
        'create blocker_v6 hash:net family inet6 hashsize 1024 maxelem 1048576 timeout 0',
        'add blocker_v6 2001:db8::/64 timeout 0',
        'EOF',
        '',
      ].join('\n'),
      'iptables-legacy -w -I INPUT 1 -m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j DROP\n',
      'ip6tables-legacy -w -I INPUT 1 -m set --match-set blocker_v6 src -m comment --comment handshake-blocker -j DROP\n',
    ]);
    out.length = 0;
    await b.reconcile([e('198.51.100.7', 60_000), e('2001:db8::/64', null)]);
    expect(out).toEqual([]);
    b.add(e('198.51.100.9', 10_000));
    await b.commit();
    // The set's own create line (a no-op with -exist) makes ipset batch the adds.
    expect(out).toEqual([
      "ipset restore -exist <<'EOF'\ncreate blocker_v4 hash:net family inet hashsize 1024 maxelem 1048576 timeout 0\nadd blocker_v4 198.51.100.9 timeout 10\nEOF\n",
    ]);
  });
});
