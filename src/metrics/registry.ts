/**
 * Just enough of Prometheus's text exposition format (version 0.0.4) for a
 * handful of counters and gauges: no dependency, and the output is plain
 * text a test can read.
 */
export type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly labelNames: readonly string[];
  /** Series by their rendered label set. */
  readonly series: Map<string, number>;
  /** Gauges computed when scraped (read from the database). */
  readonly collect?: () => readonly (readonly [Labels, number])[];
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  /** One series' increment with its label set rendered once: for hot paths (one call per log line). */
  series(labels?: Labels): (by?: number) => void;
  /** Makes a series visible at 0 before anything happened (a rate() needs a starting point). */
  touch(labels?: Labels): void;
}

export interface Gauge {
  set(labels: Labels, value: number): void;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

export class Registry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const f = this.add({ name, help, type: 'counter', labelNames, series: new Map() });
    return {
      inc: (labels = {}, by = 1) => {
        if (by < 0) throw new Error(`counter ${name} cannot decrease`);
        const key = this.key(f, labels);
        f.series.set(key, (f.series.get(key) ?? 0) + by);
      },
      series: (labels = {}) => {
        const key = this.key(f, labels);
        if (!f.series.has(key)) f.series.set(key, 0);
        return (by = 1) => void f.series.set(key, f.series.get(key)! + by);
      },
      touch: (labels = {}) => {
        const key = this.key(f, labels);
        if (!f.series.has(key)) f.series.set(key, 0);
      },
    };
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const f = this.add({ name, help, type: 'gauge', labelNames, series: new Map() });
    return { set: (labels, value) => void f.series.set(this.key(f, labels), value) };
  }

  /** A gauge whose series are computed at each scrape. */
  collected(name: string, help: string, labelNames: readonly string[], collect: () => readonly (readonly [Labels, number])[]): void {
    this.add({ name, help, type: 'gauge', labelNames, series: new Map(), collect });
  }

  /** The whole exposition; a collector that throws leaves its family without samples for this scrape. */
  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      let series: [string, number][] = [...f.series];
      if (f.collect) {
        try {
          series = f.collect().map(([labels, v]) => [this.key(f, labels), v]);
        } catch {
          series = [];
        }
      }
      for (const [key, v] of series) out.push(`${f.name}${key} ${formatValue(v)}`);
    }
    return out.join('\n') + '\n';
  }

  private add(f: Family): Family {
    if (!NAME.test(f.name)) throw new Error(`bad metric name ${f.name}`);
    if (this.families.has(f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.set(f.name, f);
    return f;
  }

  private key(f: Family, labels: Labels): string {
    const names = Object.keys(labels);
    if (names.length !== f.labelNames.length || f.labelNames.some((n) => !(n in labels))) {
      throw new Error(`metric ${f.name} takes labels ${f.labelNames.join(',') || '(none)'}, got ${names.join(',') || '(none)'}`);
    }
    if (names.length === 0) return '';
    return `{${f.labelNames.map((n) => `${n}="${escapeLabel(labels[n]!)}"`).join(',')}}`;
  }
}
