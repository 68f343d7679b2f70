import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const source = (extra: Record<string, unknown>) => ({ sources: [{ name: 's', type: 'file', path: '/var/log/x.log', ...extra }] });
const problem = (extra: Record<string, unknown>) => {
  try {
    parseConfig(source(extra), 'test.yaml');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

describe('format settings in the config', () => {
  it('accepts every format, a regex pattern with its cause, and checkPid for nginx', () => {
    for (const format of ['nginx', 'go', 'caddy-json', 'haproxy', 'apache', 'postfix', 'dovecot', 'auto']) expect(problem({ format })).toBeNull();
    expect(problem({ format: 'regex', pattern: '^(?<time>\\S+) refused <HOST>$', cause: 'protocol-mismatch' })).toBeNull();
    expect(problem({ format: 'nginx', checkPid: true })).toBeNull();
  });

  it('names the key and says what to do when a pattern is missing or unusable', () => {
    expect(problem({ format: 'regex' })).toMatch(/sources\.0\.pattern: format regex needs a pattern/);
    expect(problem({ format: 'regex', pattern: '^(?<ip' })).toMatch(/sources\.0\.pattern: the pattern not a valid regular expression/);
    expect(problem({ format: 'regex', pattern: 'refused <HOST>' })).toMatch(/sources\.0\.pattern: the pattern must be anchored at the start of the line \(begin it with \^\)/);
    expect(problem({ format: 'regex', pattern: '^refused (\\S+)' })).toMatch(/needs a named group \(\?<ip>\.\.\.\) or the <HOST> placeholder/);
    expect(problem({ format: 'regex', pattern: '^(?<ip>\\S+) (?<host>\\S+)' })).toMatch(/named group\(s\) host; only ip, time and reason are used/);
    expect(problem({ format: 'regex', pattern: '^<HOST> <HOST>' })).toMatch(/sources\.0\.pattern: the pattern has <HOST> more than once/);
    expect(problem({ format: 'regex', pattern: '^<HOST>', cause: 'scanner' })).toMatch(/sources\.0\.cause/);
    expect(problem({ format: 'nginx', pattern: '^<HOST>' })).toMatch(/sources\.0\.pattern: pattern is only for format regex/);
    expect(problem({ format: 'go', cause: 'eof' })).toMatch(/sources\.0\.cause: cause is only for format regex/);
    expect(problem({ format: 'go', checkPid: true })).toMatch(/sources\.0\.checkPid: checkPid is only for format nginx/);
    expect(problem({ format: 'iis' })).toMatch(/sources\.0\.format/);
  });
});
