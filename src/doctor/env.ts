import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';

/** What the doctor looks at on this machine; tests give their own. */
export interface DoctorEnv {
  now(): number;
  /** Effective user id. */
  uid(): number;
  /** The effective capability mask of this process (from /proc/self/status), or null where unknown. */
  capEff(): bigint | null;
  /** The absolute path of a program on PATH (or the path itself when absolute and executable), or null. */
  which(program: string): string | null;
  /** Runs a program (argument array, no shell) with a timeout; never throws. */
  run(program: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; error?: string }>;
  exists(path: string): boolean;
  readable(path: string): boolean;
  writable(path: string): boolean;
  isDirectory(path: string): boolean;
  readFile(path: string): string;
  /** The nginx main config to inspect. */
  readonly nginxConf: string;
  /** The local time zone, for the note on zone-less log timestamps. */
  timeZone(): string;
}

const can = (path: string, mode: number) => {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
};

export function systemEnv(o: { nginxConf?: string } = {}): DoctorEnv {
  return {
    now: Date.now,
    uid: () => process.geteuid?.() ?? -1,
    capEff: () => {
      try {
        const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
        return m ? BigInt(`0x${m[1]}`) : null;
      } catch {
        return null;
      }
    },
    which: (program) => {
      if (program.includes('/')) return can(program, constants.X_OK) ? program : null;
      for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
        const p = join(dir, program);
        if (dir && can(p, constants.X_OK) && !statSync(p).isDirectory()) return p;
      }
      return null;
    },
    run: async (program, args) => {
      const r = await execa(program, args, { reject: false, timeout: 5000, stdin: 'ignore' });
      return {
        code: r.exitCode ?? null,
        stdout: typeof r.stdout === 'string' ? r.stdout : '',
        stderr: typeof r.stderr === 'string' ? r.stderr : '',
        ...(r.failed && r.exitCode === undefined ? { error: r.shortMessage } : {}),
      };
    },
    exists: (p) => existsSync(p),
    readable: (p) => can(p, constants.R_OK),
    writable: (p) => can(p, constants.W_OK),
    isDirectory: (p) => {
      try {
        return statSync(p).isDirectory();
      } catch {
        return false;
      }
    },
    readFile: (p) => readFileSync(p, 'utf8'),
    nginxConf: o.nginxConf ?? '/etc/nginx/nginx.conf',
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}
