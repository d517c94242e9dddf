import { defineConfig } from 'vitest/config';

/** `npm run test:faults`: crashes and restarts of the service and the Docker engine, one at a time. */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    reporters: ['default', './test/faults/support/fault-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Scenarios kill and restart processes and engines: never two at once.
    fileParallelism: false,
  },
});
