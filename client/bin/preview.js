#!/usr/bin/env node
// The CLI, built by `npm run build -w client` (run on install by the root package's `prepare`).
import '../dist/cli.js';
