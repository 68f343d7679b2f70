import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface ChildRun {
  exitCode: number | null;
  /** Wall-clock time from spawn to exit. */
  seconds: number;
  /** Peak resident set size of the child, in bytes. */
  peakRss: number;
  /** How the peak was measured. */
  rssBy: 'time -v' | 'VmHWM';
  /** User + system CPU seconds of the child (null without GNU time): steadier than wall time on a busy machine. */
  cpuSeconds: number | null;
  stdout: string;
  stderr: string;
}

const TIME = '/usr/bin/time';

/**
 * Runs a command to its end and measures it from outside, as a user would see
 * it: wall time including start-up, and peak RSS (GNU time's exact figure when
 * /usr/bin/time exists, else the kernel's high-water mark VmHWM, polled).
 */
export function measureChild(cmd: string, args: readonly string[], opts: { stdoutToNull?: boolean } = {}): Promise<ChildRun> {
  const useTime = existsSync(TIME);
  const argv = useTime ? ['-f', '@@maxrss=%M cpu=%U+%S', cmd, ...args] : [...args];
  const started = process.hrtime.bigint();
  const child = spawn(useTime ? TIME : cmd, argv, { stdio: ['ignore', opts.stdoutToNull ? 'ignore' : 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => void (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (stderr += d.toString()));
  let hwm = 0;
  const poll = useTime
    ? null
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwm = Math.max(hwm, Number(m[1]) * 1024);
        } catch {
          // exited between two polls
        }
      }, 20);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let peakRss = hwm;
      let cpuSeconds: number | null = null;
      if (useTime) {
        const m = /@@maxrss=(\d+) cpu=([\d.]+)\+([\d.]+)/.exec(stderr);
        peakRss = m ? Number(m[1]) * 1024 : 0;
        cpuSeconds = m ? Number(m[2]) + Number(m[3]) : null;
        stderr = stderr.replace(/@@maxrss=.*\n?/, '');
      }
      resolve({ exitCode: code, seconds, peakRss, rssBy: useTime ? 'time -v' : 'VmHWM', cpuSeconds, stdout, stderr });
    });
  });
}

export function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return null;
}
