/** One benchmark: `npm run bench` runs every module listed in bench/run.ts, in order. */
export interface BenchModule {
  readonly name: string;
  /** One line on what it measures, printed before it runs. */
  readonly description: string;
  run(ctx: BenchContext): Promise<void>;
}

export interface BenchContext {
  /** A scratch folder for this run, removed afterwards. */
  readonly tmpDir: string;
  /** The built CLI (dist/blocker/bin.js, the bundle users run). */
  readonly cli: string;
  /** Prints one line of results. */
  log(line: string): void;
}
