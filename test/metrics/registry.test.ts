import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/metrics/registry.js';

describe('metrics registry (Prometheus text format 0.0.4)', () => {
  it('renders counters and gauges with HELP, TYPE and labels in declared order', () => {
    const r = new Registry();
    const c = r.counter('x_total', 'Things.', ['source', 'cause']);
    c.inc({ cause: 'eof', source: 'nginx' });
    c.inc({ source: 'nginx', cause: 'eof' }, 2);
    c.touch({ source: 'go', cause: 'sni' });
    r.gauge('y', 'A gauge.').set({}, 1.5);
    expect(r.render()).toBe(
      [
        '# HELP x_total Things.',
        '# TYPE x_total counter',
        'x_total{source="nginx",cause="eof"} 3',
        'x_total{source="go",cause="sni"} 0',
        '# HELP y A gauge.',
        '# TYPE y gauge',
        'y 1.5',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values and help text', () => {
    const r = new Registry();
    r.counter('e_total', 'back\\slash\nnewline', ['v']).inc({ v: 'a"b\\c\nd' });
    expect(r.render()).toContain('# HELP e_total back\\\\slash\\nnewline');
    expect(r.render()).toContain('e_total{v="a\\"b\\\\c\\nd"} 1');
  });

  it('computes collected gauges at each render; a failing collector only empties its own family', () => {
    const r = new Registry();
    let n = 1;
    r.collected('g', 'Collected.', ['k'], () => [[{ k: 'a' }, n]]);
    r.collected('bad', 'Broken.', [], () => {
      throw new Error('database locked');
    });
    expect(r.render()).toContain('g{k="a"} 1');
    n = 7;
    const text = r.render();
    expect(text).toContain('g{k="a"} 7');
    expect(text).toContain('# TYPE bad gauge\n');
    expect(text).not.toMatch(/^bad /m);
  });

  it('refuses wrong labels, bad names, duplicates and decreasing counters', () => {
    const r = new Registry();
    const c = r.counter('a_total', 'A.', ['source']);
    expect(() => c.inc({})).toThrow(/takes labels source/);
    expect(() => c.inc({ source: 'x', extra: 'y' })).toThrow(/takes labels source/);
    expect(() => c.inc({ source: 'x' }, -1)).toThrow(/cannot decrease/);
    expect(() => r.counter('a_total', 'again')).toThrow(/twice/);
    expect(() => r.counter('1bad', 'x')).toThrow(/bad metric name/);
  });
});

describe('counter series', () => {
  it('a bound series counts into the same sample as inc()', () => {
    const r = new Registry();
    const c = r.counter('s_total', 'S.', ['k']);
    const inc = c.series({ k: 'a' });
    expect(r.render()).toContain('s_total{k="a"} 0\n');
    inc();
    inc(2);
    c.inc({ k: 'a' });
    expect(r.render()).toContain('s_total{k="a"} 4\n');
  });
});
