import { describe, expect, it } from 'vitest';
import { FirewallUnavailable, mustRun, tool } from '../../src/firewall/exec.js';
import { UserError } from '../../src/errors.js';

describe('running firewall commands', () => {
  it('names the package to install when a command is missing', async () => {
    const err = await tool('nft-not-installed-here', ['list', 'tables']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirewallUnavailable);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/the nft-not-installed-here command was not found: install it/);
  });

  it('says how to run when the kernel refuses for lack of privilege', async () => {
    // A stand-in that answers as nft does without CAP_NET_ADMIN.
    const err = await tool('sh', ['-c', 'echo "Error: cache initialization failed: Operation not permitted" >&2; exit 1']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirewallUnavailable);
    expect((err as Error).message).toMatch(/run blocker as root or give it CAP_NET_ADMIN/);
  });

  it('returns other failures for the caller to judge, and mustRun turns them into errors', async () => {
    const r = await tool('sh', ['-c', 'echo "Error: No such file or directory" >&2; exit 1']);
    expect(r).toEqual({ ok: false, stdout: '', stderr: 'Error: No such file or directory' });
    await expect(mustRun('sh', ['-c', 'exit 3'])).rejects.toThrow(/sh -c exit 3 failed/);
    expect(await mustRun('sh', ['-c', 'cat'], 'in\n')).toBe('in\n');
  });
});
