import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { UserError } from '../../src/errors.js';

function write(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'blocker-cfg-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

describe('config', () => {
  it('fills defaults for everything but sources', () => {
    const cfg = parseConfig({}, 'test');
    expect(cfg.database).toBe('/var/lib/blocker/blocker.db');
    expect(cfg.sources).toEqual([]);
    expect(cfg.policy.maxRetry).toBe(5);
    expect(cfg.policy.findTime).toBe(600_000);
    expect(cfg.policy.banTime).toBe(3_600_000);
    expect(cfg.policy.allow.map((c) => c.text)).toEqual(['127.0.0.0/8', '::1']);
    expect(cfg.policy.cdn).toEqual(['cloudflare']);
    expect(cfg.firewall).toMatchObject({ backend: 'auto', table: 'blocker' });
  });

  it('reads the YAML of the README', () => {
    const file = write(`
database: /tmp/x.db
sources:
  - { name: nginx, type: file, path: /var/log/nginx/error.log, format: nginx }
  - { name: hysteria, type: file, path: /var/log/hysteria.log, format: go }
policy:
  maxRetry: 3
  findTime: 2m
  banTime: 7d
  allow: [127.0.0.0/8, "::1", 2001:db8::/32]
  cdn: [cloudflare]
firewall: { backend: dry-run, table: blocker }
`);
    const { config } = loadConfig(file);
    expect(config.sources.map((s) => [s.name, s.format, 'readFrom' in s ? s.readFrom : undefined])).toEqual([
      ['nginx', 'nginx', 'end'],
      ['hysteria', 'go', 'end'],
    ]);
    expect(config.policy.findTime).toBe(120_000);
    expect(config.policy.banTime).toBe(604_800_000);
    expect(config.policy.allow.map((c) => c.text)).toContain('2001:db8::/32');
    expect(config.firewall.backend).toBe('dry-run');
  });

  it('accepts JSON', () => {
    const { config } = loadConfig(write('{"policy": {"maxRetry": 2}}'));
    expect(config.policy.maxRetry).toBe(2);
  });

  it('names the file and every bad key', () => {
    const file = write(`
policy:
  findTime: 10 minutes
  allow: [10.0.0.0/33]
  cdn: [akamai-typo]
  maxRetry: 0
sources:
  - { name: a, type: file, path: /x, format: apache2 }
firewall: { table: "x; flush ruleset" }
extra: 1
`);
    const err = errorOf(() => loadConfig(file));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(file);
    for (const key of ['policy.findTime', 'policy.allow.0', 'policy.cdn.0', 'policy.maxRetry', 'sources.0.format', 'firewall.table']) {
      expect(err.message).toContain(`${key}:`);
    }
    expect(err.message).toMatch(/unknown key\(s\): extra/);
  });

  it('rejects duplicate source names', () => {
    const err = errorOf(() =>
      parseConfig(
        { sources: [
          { name: 'a', type: 'file', path: '/x', format: 'nginx' },
          { name: 'a', type: 'file', path: '/y', format: 'go' },
        ] },
        'cfg',
      ),
    );
    expect(err.message).toContain('sources.1.name: duplicate source name "a"');
  });

  it('reports unreadable and malformed files clearly', () => {
    expect(errorOf(() => loadConfig('/nonexistent/blocker.yaml')).message).toMatch(/cannot read config \/nonexistent\/blocker.yaml/);
    expect(errorOf(() => loadConfig(write('policy: [unclosed'))).message).toMatch(/is not valid YAML\/JSON/);
  });
});
