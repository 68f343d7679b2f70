import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../errors.js';

/**
 * The backend cannot work on this host as configured: a command is missing or
 * the process lacks CAP_NET_ADMIN. Retrying will not help, so the daemon stops
 * at start with this message instead of retrying.
 */
export class FirewallUnavailable extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'FirewallUnavailable';
  }
}

/** Debian package that ships each command we run. */
const PACKAGE: Record<string, string> = {
  nft: 'nftables',
  ipset: 'ipset',
  iptables: 'iptables',
  ip6tables: 'iptables',
  'iptables-nft': 'iptables',
  'ip6tables-nft': 'iptables',
  'iptables-legacy': 'iptables',
  'ip6tables-legacy': 'iptables',
};

const REFUSED = /Operation not permitted|Permission denied|must be root/i;

// Firewall tools live in sbin, which a non-login PATH may lack.
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
const resolved = new Map<string, string>();

/** The absolute path of `cmd` on PATH or in sbin; `cmd` itself when it is nowhere. */
export function resolveCommand(cmd: string): string {
  let path = resolved.get(cmd);
  if (path === undefined) {
    path = cmd;
    for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...SBIN]) {
      if (!dir.startsWith('/')) continue;
      try {
        accessSync(join(dir, cmd), constants.X_OK);
        path = join(dir, cmd);
        break;
      } catch {
        // not here
      }
    }
    if (path !== cmd) resolved.set(cmd, path);
  }
  return path;
}

export interface ToolResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one firewall command (an argument array, never a shell string).
 * A missing command or a refusal for lack of privilege becomes a
 * {@link FirewallUnavailable}; any other failure is returned (`ok: false`) for
 * the caller to judge, since "no such table" is an answer, not an error.
 */
export async function tool(cmd: string, args: readonly string[], input?: string): Promise<ToolResult> {
  let r;
  try {
    r = await execa(resolveCommand(cmd), args, {
      reject: false,
      timeout: 60_000,
      maxBuffer: 512 * 1024 * 1024,
      stripFinalNewline: false,
      ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
    });
  } catch (err) {
    throw new UserError(`${cmd} could not be run: ${(err as Error).message}`);
  }
  if ((r as { code?: string }).code === 'ENOENT') {
    const pkg = PACKAGE[cmd] ?? cmd;
    throw new FirewallUnavailable(
      `the ${cmd} command was not found: install it (Debian: apt-get install ${pkg}), choose another firewall.backend, or use --dry-run`,
    );
  }
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '').trim();
  if (r.timedOut) throw new UserError(`${cmd} ${args.join(' ')} did not finish within 60 s`);
  if (r.exitCode !== 0 && REFUSED.test(stderr)) {
    throw new FirewallUnavailable(
      `${cmd} was refused (${firstLine(stderr)}): run blocker as root or give it CAP_NET_ADMIN (systemd: AmbientCapabilities=CAP_NET_ADMIN), or use --dry-run`,
    );
  }
  return { ok: r.exitCode === 0, stdout, stderr };
}

/** Like {@link tool}, but any failure is an error naming the command and what it said. */
export async function mustRun(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await tool(cmd, args, input);
  if (!r.ok) throw new UserError(`${cmd} ${args.join(' ')} failed: ${r.stderr || 'no message'}`);
  return r.stdout;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
