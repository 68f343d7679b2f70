#!/usr/bin/env node
import { catchStopSignals } from './stop-signals.js';

// A service manager may stop `blocker watch` at any moment, also during the
// few hundred milliseconds the rest of the program takes to load: the signal
// handler goes in before any of it, so that stop is clean too (exit 0).
if (process.argv[2] === 'watch') catchStopSignals();
// `check` on a big file starts matching it on another core before the rest of the program loads here.
if (process.argv[2] === 'check') await (await import('./check-warmup.js')).warmUpCheck(process.argv.slice(3));
const { runAsProgram } = await import('./main.js');
runAsProgram();
