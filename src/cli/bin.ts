#!/usr/bin/env node
import { catchStopSignals } from './stop-signals.js';

// A service manager may stop `blocker watch` at any moment, also during the
// few hundred milliseconds the rest of the program takes to load: the signal
// handler goes in before any of it, so that stop is clean too (exit 0).
if (process.argv[2] === 'watch') catchStopSignals();
const { runAsProgram } = await import('./main.js');
runAsProgram();
