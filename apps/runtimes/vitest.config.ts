import { defineConfig } from 'vitest/config';

// The matrix runs the built packages (dist), not the sources: no alias to src here, unlike
// vitest.shared.ts. Runtimes run one after the other (each starts servers and child processes).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results/results.json' },
  },
});
