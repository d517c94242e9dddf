import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite kills services and engines: `npm run test:faults`, run on its own.
    exclude: ['test/faults/**', '**/node_modules/**'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Docker-backed suites share one engine on a 2-core machine: keep parallelism modest.
    maxWorkers: 2,
  },
});
