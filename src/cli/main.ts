#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { UserError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { CAUSES, FORMAT_NAMES } from '../signatures/index.js';
import { processIo, type Io } from './io.js';
import { LIST_SORTS } from './list-sorts.js';
import { favourMemoryOverSpeed } from './memory-first.js';

const CONFIG_HELP = 'config file (YAML or JSON; default /etc/blocker/config.yaml)';

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  const program = new Command('blocker')
    .description('Bans hosts that keep failing TLS handshakes, without cutting off CDNs, proxies or real users.')
    .version(version)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  // Each command's module is loaded only when it runs: `blocker check` then loads neither
  // the firewall (execa and its helpers) nor the sources, which cost a tenth of a second.
  const run =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) =>
      setExit(await fn(...args));

  program
    .command('watch')
    .description('follow the configured logs and ban repeat offenders (the service)')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--dry-run', 'touch no firewall: print the nft commands instead')
    .option('--once', 'read what the logs hold now, apply it, and exit')
    .addOption(new Option('--log-level <level>', 'least important messages to print').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(run(async (opts) => (await import('./watch.js')).watchCommand(opts, io)));

  program
    .command('list')
    .description('show active bans: ip, failures, when banned, time remaining, rule and cause')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--in <cidr>', 'only bans overlapping this network, e.g. 2001:db8::/32')
    .addOption(new Option('--origin <origin>', 'only automatic or manual bans').choices(['auto', 'manual']))
    .addOption(new Option('--cause <cause>', 'only bans of this cause').choices([...CAUSES, 'manual']))
    .addOption(new Option('--sort <key>', 'order of the rows').choices([...LIST_SORTS]).default('banned'))
    .option('--reverse', 'reverse the order')
    .option('--json', 'machine-readable output (ISO 8601 times)')
    .action(run(async (opts) => (await import('./list.js')).listCommand(opts, io)));

  program
    .command('status')
    .description('what the daemon is doing: sources and their lag, recent failures by cause, bans, breaker, diagnoses, firewall')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'machine-readable output (ISO 8601 times)')
    .action(run(async (opts) => (await import('./status.js')).statusCommand(opts, io)));

  program
    .command('history')
    .description('when an address (or network) failed, why, and when it was banned, by what rule')
    .argument('<ip|cidr>', 'e.g. 203.0.113.7 or 2001:db8::/64')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--limit <n>', 'newest stored failures to show', '50')
    .option('--json', 'machine-readable output (ISO 8601 times)')
    .action(run(async (target, opts) => (await import('./history.js')).historyCommand(target, opts, io)));

  program
    .command('ban')
    .description('ban an address or network now (in the firewall and the database)')
    .argument('<ip|cidr>', 'e.g. 203.0.113.7 or 2001:db8:1::/48')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--for <duration>', 'how long: 30s, 10m, 2h, 7d or forever (default: policy.banTime)')
    .option('--reason <text>', 'note stored with the ban', 'manual')
    .option('--force', 'ban even an allow-listed, trusted-proxy or CDN address (never loopback or own addresses)')
    .option('--dry-run', 'touch no firewall: print the nft commands instead')
    .action(run(async (target, opts) => (await import('./ban.js')).banCommand(target, opts, io)));

  program
    .command('unban')
    .description('lift a ban (or every ban inside a network), forget its counted failures and forgive its past bans')
    .argument('<ip|cidr>')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--allow', 'also add it to the persistent allow list, so it is never banned again')
    .option('--note <text>', 'with --allow: why, shown by `blocker allow list`')
    .option('--dry-run', 'touch no firewall: print the nft commands instead')
    .action(run(async (target, opts) => (await import('./ban.js')).unbanCommand(target, opts, io)));

  program
    .command('flush')
    .description("remove blocker's own table/sets/rules from the firewall (nothing else) and mark every ban inactive, for uninstalling")
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--dry-run', 'print the commands instead, and leave the database as it is')
    .action(run(async (opts) => (await import('./flush.js')).flushCommand(opts, io)));

  const allow = program.command('allow').description('the persistent allow list (addresses and networks never banned)');
  allow
    .command('list')
    .description('show the allow list: the database entries and the config\'s policy.allow')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'machine-readable output')
    .action(run(async (opts) => (await import('./allow.js')).allowListCommand(opts, io)));
  allow
    .command('add')
    .description('add an address or network (as `unban --allow` does, without unbanning)')
    .argument('<ip|cidr>')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--note <text>', 'why, shown by `blocker allow list`')
    .action(run(async (target, opts) => (await import('./allow.js')).allowAddCommand(target, opts, io)));
  allow
    .command('remove')
    .description('take an entry off the persistent allow list')
    .argument('<ip|cidr>', 'exactly as `blocker allow list` shows it')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(run(async (target, opts) => (await import('./allow.js')).allowRemoveCommand(target, opts, io)));

  const cdn = program.command('cdn').description('the CDN ranges that are never banned');
  cdn
    .command('update')
    .description("fetch the providers' published ranges, validate them and keep them with their date")
    .argument('[provider...]', 'default: the providers selected by policy.cdn')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--force', 'accept a list that shrank by more than half')
    .option('--json', 'machine-readable output')
    .action(run(async (providers, opts) => (await import('./cdn.js')).cdnUpdateCommand(providers, opts, io)));
  cdn
    .command('list')
    .description('show each provider\'s list in force: bundled or fetched, its date and size')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'machine-readable output')
    .action(run(async (opts) => (await import('./cdn.js')).cdnListCommand(opts, io)));

  program
    .command('check')
    .description('replay log files offline with their own timestamps and report what would be banned')
    .argument('<logfile...>', 'files to read in order; .gz is decompressed; - reads stdin')
    .option('-c, --config <file>', `${CONFIG_HELP}; its policy is used`)
    .addOption(new Option('--format <format>', 'log format (default: auto, every built-in tried on each line)').choices([...FORMAT_NAMES]))
    .option('--pattern <regex>', 'with --format regex: ^-anchored pattern with (?<ip>…) or <HOST>, optional (?<time>…) (?<reason>…)')
    .addOption(new Option('--cause <cause>', 'with --format regex: the cause of every match').choices([...CAUSES]))
    .option('--top <n>', 'how many top offenders to list', '10')
    .option('--json', 'machine-readable output')
    .action(run(async (files, opts) => (await import('./check.js')).checkCommand(files, opts, io)));

  program
    .command('demo')
    .description('replay the bundled example logs through the pipeline in dry-run (no root needed)')
    .action(run(async () => (await import('./demo.js')).demoCommand(io)));

  program
    .command('doctor')
    .description('check what silently breaks blocker (firewall and capability, readable logs, nginx log level, database, clock) and print a fix for each')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--nginx-conf <file>', 'the nginx config whose error_log levels to check', '/etc/nginx/nginx.conf')
    .option('--json', 'machine-readable output')
    .action(run(async (opts) => (await import('./doctor.js')).doctorCommand(opts, io)));

  const config = program.command('config').description('the configuration file');
  config
    .command('check')
    .description('validate a config and print the effective config, with every default filled in')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'print the effective config as JSON instead of YAML')
    .action(run(async (opts) => (await import('./config-check.js')).configCheckCommand(opts, io)));

  program.addHelpText(
    'after',
    `
Exit codes: 0 success, 1 runtime error (or a failed doctor check), 2 usage or configuration error.
Read commands (list, status, history, check, allow list, cdn list, doctor, config check) take --json.
\`blocker <command> --help\` describes each command.`,
  );

  return program;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      io.err(`blocker: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

/** True when this file is the program (run as `node main.js` or through the npm bin symlink), not imported. */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

/** What the `blocker` binary does (bin.ts): runs the process's command line and exits with its code. */
export function runAsProgram(): void {
  const argv = process.argv.slice(2);
  if (argv[0] === 'watch') favourMemoryOverSpeed();
  main(argv).then(
    (code) => exitOnceWritten(code),
    (err: unknown) => {
      process.stderr.write(`blocker: internal error (please report): ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Exits once stdout and stderr have handed everything to the kernel. Writes to
 * a pipe are asynchronous, and process.exit drops what is still queued:
 * `blocker check --json … | jq` got only the first 64 KiB of the report.
 */
function exitOnceWritten(code: number): void {
  let waiting = 2;
  const done = () => {
    if (--waiting === 0) process.exit(code);
  };
  for (const stream of [process.stdout, process.stderr]) {
    // A reader that went away (`| head`) is not an error of ours: nothing more can be written.
    stream.once('error', () => process.exit(code));
    stream.write('', done);
  }
}

if (invokedDirectly()) runAsProgram();
