import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { colourEnabled, style, styleFor } from '../../src/cli/human.js';
import { processIo } from '../../src/cli/io.js';
import { cli } from './run.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Every command path, e.g. ["allow", "list"], from the program itself. */
function commandPaths(): string[][] {
  const out: string[][] = [];
  const walk = (cmd: ReturnType<typeof buildProgram>, path: string[]) => {
    for (const sub of cmd.commands) {
      const p = [...path, sub.name()];
      if (sub.commands.length) walk(sub, p);
      else out.push(p);
    }
  };
  walk(buildProgram(processIo, () => {}), []);
  return out;
}

describe('help, version and exit codes', () => {
  it('--version prints the package version, exit 0', async () => {
    expect(await cli('--version')).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });

  it('--help lists every command and documents the exit codes', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const top of new Set(commandPaths().map((p) => p[0]!))) expect(r.out).toMatch(new RegExp(`^  ${top}\\b`, 'm'));
    expect(r.out).toContain('Exit codes: 0 success, 1 runtime error (or a failed doctor check), 2 usage or configuration error.');
  });

  it('every command has a description and --help that exits 0, and every option a description', async () => {
    const paths = commandPaths();
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['watch', 'list', 'status', 'history', 'ban', 'unban', 'check', 'demo', 'doctor', 'config check', 'allow list', 'cdn update']),
    );
    for (const path of paths) {
      const r = await cli(...path, '--help');
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: blocker ${path.join(' ')}`, 'm'));
      // commander prints "-x, --flag <arg>  description": an option without one would end its line at the flag.
      for (const line of r.out.split('\n').filter((l) => /^\s+-/.test(l))) expect(line, `${path.join(' ')}: ${line}`).toMatch(/^\s+-\S.*\S\s{2,}\S/);
    }
  });

  it('read commands take --json', async () => {
    for (const path of [['list'], ['status'], ['history'], ['check'], ['doctor'], ['config', 'check'], ['allow', 'list'], ['cdn', 'list']]) {
      expect((await cli(...path, '--help')).out, path.join(' ')).toContain('--json');
    }
  });

  it('usage errors are exit 2: unknown command, unknown option, missing argument', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('list', '--colour')).code).toBe(2);
    expect((await cli('history')).code).toBe(2);
    expect((await cli('ban')).code).toBe(2);
  });

  it('a runtime error is exit 1 with one line saying what is wrong', async () => {
    // A database path that is a directory cannot be opened.
    const dir = mkdtempSync(join(tmpdir(), 'blocker-exit1-'));
    writeFileSync(join(dir, 'c.yaml'), `database: ${dir}\n`);
    const r = await cli('list', '-c', join(dir, 'c.yaml'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^blocker: cannot open database .*\n$/);
  });
});

describe('colour', () => {
  it('only on a terminal, never with NO_COLOR or TERM=dumb', () => {
    expect(colourEnabled({ isTTY: true }, {})).toBe(true);
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({}, {})).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('captured output never gets escape codes, the terminal does', () => {
    const captured = { out: () => {}, err: () => {} };
    expect(styleFor(captured, { isTTY: true }, {}).red('x')).toBe('x');
    expect(styleFor(processIo, { isTTY: true }, {}).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(styleFor(processIo, { isTTY: true }, { NO_COLOR: '1' }).red('x')).toBe('x');
    expect(style(false).bold('x')).toBe('x');
  });
});
