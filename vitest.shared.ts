import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests run on sources: every @auth/* import resolves to packages/<name>/src, so no build is needed
// for them (the browser test loads the built fetch adapter on purpose).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@auth\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
      // A package's second entry (`@auth/testing/browser`): its source file of that name.
      { find: /^@auth\/([a-z0-9-]+)\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/$2.ts` },
    ],
  },
  test: {
    root: process.cwd(),
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results/results.json' },
    typecheck: { enabled: false },
  },
});
