import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const root = join(import.meta.dirname, '../../examples');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('examples', () => {
  const files = yamlFiles(root);

  it('has a config for each server type', () => {
    expect(files.map((f) => relative(root, f)).sort()).toEqual(
      expect.arrayContaining(['behind-proxy.yaml', 'caddy.yaml', 'config.yaml', 'demo.yaml', 'haproxy.yaml', 'hysteria-file.yaml', 'hysteria-journald.yaml', 'nginx.yaml']),
    );
  });

  it.each(files.map((f) => [relative(root, f), f]))('%s validates with the real schema', (_name, file) => {
    const { config } = loadConfig(file);
    expect(config.sources.length).toBeGreaterThan(0);
  });

  it('each server example reads the format its comments describe', () => {
    const formats = (name: string) => loadConfig(join(root, name)).config.sources.map((s) => [s.type, s.format]);
    expect(formats('nginx.yaml')).toEqual([['file', 'nginx']]);
    expect(formats('hysteria-journald.yaml')).toEqual([['journald', 'go']]);
    expect(formats('hysteria-file.yaml')).toEqual([['file', 'go']]);
    expect(formats('caddy.yaml')).toEqual([['file', 'caddy-json']]);
    expect(formats('haproxy.yaml')).toEqual([['file', 'haproxy']]);
    const proxy = loadConfig(join(root, 'behind-proxy.yaml')).config;
    expect(proxy.policy.trustedProxies.map((c) => c.text)).toEqual(['10.0.0.5', '2001:db8:0:1::5']);
  });

  const unit = join(root, 'systemd', 'blocker.service');
  const analyze = spawnSync('systemd-analyze', ['--version']);

  it('the systemd unit is hardened as the README says', () => {
    const text = readFileSync(unit, 'utf8');
    for (const line of [
      'ExecStart=/usr/local/bin/blocker watch -c /etc/blocker/config.yaml',
      'Restart=on-failure',
      'AmbientCapabilities=CAP_NET_ADMIN CAP_DAC_READ_SEARCH',
      'CapabilityBoundingSet=CAP_NET_ADMIN CAP_DAC_READ_SEARCH',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/blocker',
      'StateDirectory=blocker',
      'NoNewPrivileges=yes',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
  });

  it.skipIf(analyze.status !== 0)('the systemd unit passes systemd-analyze verify', () => {
    // verify insists that ExecStart's program exists: point it at this checkout's build.
    const dir = mkdtempSync(join(tmpdir(), 'blocker-unit-'));
    try {
      const main = join(import.meta.dirname, '../../dist/blocker/bin.js');
      const text = readFileSync(unit, 'utf8').replace('ExecStart=/usr/local/bin/blocker', `ExecStart=${process.execPath} ${main}`);
      writeFileSync(join(dir, 'blocker.service'), text);
      // Warnings (an unknown key, a bad value) go to stderr with exit 0: none is allowed either.
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'blocker.service')], { encoding: 'utf8' });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
