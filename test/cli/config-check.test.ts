import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { effectiveDocument } from '../../src/cli/config-check.js';
import { configFrom } from '../../src/cli/context.js';
import { DEFAULT_CONFIG_PATH, parseConfig } from '../../src/config/load.js';
import { workspace } from './fixture.js';
import { cli } from './run.js';

describe('blocker config check', () => {
  it('prints the effective config: defaults filled in, paths absolute, durations and sizes in config words', async () => {
    const w = workspace('actions: { onBan: ["/usr/local/bin/notify", "{ip}"], timeout: 2500ms }\n');
    const r = await cli('config', 'check', '-c', w.config);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`# ${w.config}: valid. The effective configuration, with defaults filled in and paths made absolute:`);
    const doc = parse(r.out) as Record<string, Record<string, unknown>>;
    expect(doc.database).toBe(w.db);
    expect(doc.sources).toEqual([{ name: 'nginx', type: 'file', path: w.log, format: 'nginx', readFrom: 'end', maxLineBytes: '64KiB' }]);
    expect(doc.policy).toMatchObject({ maxRetry: 5, findTime: '10m', banTime: '1h', allow: ['127.0.0.0/8', '::1'], cdn: ['cloudflare'] });
    expect(doc.policy!.escalation).toEqual({ factor: 2, maxBanTime: '7d', rememberFor: '30d' });
    expect(doc.watch).toEqual({ pollInterval: '250ms', summaryEvery: '1h' });
    expect(doc.metrics).toEqual({ enabled: false, listen: '127.0.0.1:9477' });
    // 2500ms has no exact short form (formatDuration rounds to seconds), so it stays a number of milliseconds.
    expect(doc.actions).toEqual({ onBan: ['/usr/local/bin/notify', '{ip}'], timeout: 2500 });
    expect(r.err).toBe('note: firewall.backend is dry-run: nothing will be banned in the kernel\n');
  });

  it('what it prints loads back to the same config', async () => {
    const w = workspace();
    writeFileSync(
      w.config,
      `database: blocker.db
sources:
  - { name: go, type: journald, units: [hysteria.service], format: go }
policy: { maxRetry: 3, findTime: 90s, banTime: 1h30m, trustedProxies: [10.0.0.0/8], causeWeights: { eof: 2 } }
`,
    );
    const cfg = configFrom({ config: w.config });
    const again = parseConfig(parse((await cli('config', 'check', '-c', w.config)).out), 'round trip');
    expect(again).toEqual(cfg);
    expect(parseConfig(JSON.parse((await cli('config', 'check', '-c', w.config, '--json')).out), 'json')).toEqual(cfg);
    expect((effectiveDocument(cfg) as { policy: { findTime: string } }).policy.findTime).toBe('1m30s');
  });

  it('a config with errors: exit 2, every offending key named', async () => {
    const w = workspace();
    writeFileSync(join(w.dir, 'bad.yaml'), 'policy: { maxRetry: 0, findTime: soon }\nfirewal: {}\nmetrics: { listen: "example.com:80" }\n');
    const r = await cli('config', 'check', '-c', join(w.dir, 'bad.yaml'));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('  policy.maxRetry: ');
    expect(r.err).toContain('  policy.findTime: expected a duration like 30s, 10m, 1h or 7d, got "soon"');
    expect(r.err).toContain('  (top level): unknown key(s): firewal');
    expect(r.err).toContain('  metrics.listen: "example.com" is not an IP address (or localhost)');
  });

  it('no config at the default path and none named: exit 2 with what to do', async () => {
    if (existsSync(DEFAULT_CONFIG_PATH)) return; // a machine with blocker installed
    const r = await cli('config', 'check');
    expect(r).toEqual({ code: 2, out: '', err: `blocker: no config at ${DEFAULT_CONFIG_PATH}: copy one of the examples there (examples/*.yaml), or name one with -c\n` });
  });
});
