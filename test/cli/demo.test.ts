import { describe, expect, it } from 'vitest';
import { cli } from './run.js';

describe('blocker demo', () => {
  it('replays the bundled logs in dry-run: the nft script, the bans, and the protected addresses; exit 0', async () => {
    const r = await cli('demo');
    expect(r.code).toBe(0);
    expect(r.out).toContain("nft -f - <<'EOF'\n");
    expect(r.out).toContain('it would ban 4 address(es)');
    const banned = r.out
      .split('\n')
      .filter((l) => /^(\d|2001:)/.test(l))
      .map((l) => l.split(/\s+/)[0])
      .sort();
    expect(banned).toEqual(['2001:db8:1::9', '2001:db8:bad::7', '203.0.113.10', '203.0.113.200']);
    expect(r.out).toMatch(/^ {2}ip=172\.68\.47\.133 by=cdn:cloudflare failures=5 /m);
    expect(r.out).toMatch(/^ {2}ip=127\.0\.0\.1 by=loopback failures=5 /m);
    expect(r.err).toBe('');
  });

  it('takes no arguments', async () => {
    expect((await cli('demo', 'extra')).code).toBe(2);
  });
});
