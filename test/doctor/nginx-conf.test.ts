import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nginxErrorLogs, seesInfo, statements } from '../../src/doctor/nginx-conf.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('nginx config reading', () => {
  it('splits statements with their blocks, honouring comments and quotes', () => {
    const st = statements(`user www-data; # error_log /nope info;
events { worker_connections 768; }
http {
  error_log "/var/log/nginx/my error.log" info;
  server { listen 443 ssl; error_log /var/log/nginx/site.log; }
}
`);
    expect(st.map((s) => [s.words, s.line, s.context])).toEqual([
      [['user', 'www-data'], 1, []],
      [['worker_connections', '768'], 2, ['events']],
      [['error_log', '/var/log/nginx/my error.log', 'info'], 4, ['http']],
      [['listen', '443', 'ssl'], 5, ['http', 'server']],
      [['error_log', '/var/log/nginx/site.log'], 5, ['http', 'server']],
    ]);
  });

  it('follows includes (globs relative to the main file) and reports each error_log with its level', () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-nginx-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'sites-enabled'));
    writeFileSync(join(dir, 'nginx.conf'), 'error_log /var/log/nginx/error.log;\nhttp {\n  include sites-enabled/*;\n}\nstream { include /nonexistent/*.conf; }\n');
    writeFileSync(join(dir, 'sites-enabled', 'a'), 'server {\n  error_log /var/log/nginx/a.log info;\n}\n');
    writeFileSync(join(dir, 'sites-enabled', 'b'), 'server { error_log syslog:server=unix:/dev/log notice; }\n');
    const { directives, files } = nginxErrorLogs(join(dir, 'nginx.conf'));
    expect(files.map((f) => f.slice(dir.length))).toEqual(['/nginx.conf', '/sites-enabled/a', '/sites-enabled/b']);
    expect(directives.map((d) => [d.file.slice(dir.length), d.line, d.target, d.level, d.context.join('>')])).toEqual([
      ['/nginx.conf', 1, '/var/log/nginx/error.log', 'error', ''],
      ['/sites-enabled/a', 2, '/var/log/nginx/a.log', 'info', 'http>server'],
      ['/sites-enabled/b', 1, 'syslog:server=unix:/dev/log', 'notice', 'http>server'],
    ]);
  });

  it('knows which levels show handshake failures', () => {
    expect(['debug', 'info'].map(seesInfo)).toEqual([true, true]);
    expect(['notice', 'warn', 'error', 'crit', 'bogus'].map(seesInfo)).toEqual([false, false, false, false, false]);
  });
});
