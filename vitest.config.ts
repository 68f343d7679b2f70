import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Log timestamps without a zone are local time; pin the zone so fixtures have one answer.
    env: { TZ: 'UTC' },
    testTimeout: 20_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
