import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.vitest-results/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The conformance suite runs unchanged on every runtime: only these globals exist for it.
    files: ['apps/runtimes/suite/conformance.mjs'],
    languageOptions: {
      globals: { fetch: 'readonly', URL: 'readonly', AbortController: 'readonly', setTimeout: 'readonly' },
    },
  },
  {
    // Its per-runtime runners add what their runtime hands them (Deno and process are read off globalThis).
    files: ['apps/runtimes/suite/*.mjs'],
    ignores: ['apps/runtimes/suite/conformance.mjs'],
    languageOptions: {
      globals: { URL: 'readonly', Response: 'readonly', setTimeout: 'readonly', console: 'readonly' },
    },
  },
  {
    files: ['apps/runtimes/scripts/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The core, the fetch adapter and the browser store run in browsers and edge runtimes: no Node built-ins.
    files: ['packages/core/src/**', 'packages/fetch-adapter/src/**', 'packages/browser-store/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['node:*'], message: 'must run outside Node' }],
          paths: [
            'fs',
            'http',
            'https',
            'crypto',
            'events',
            'util',
            'buffer',
            'stream',
            'net',
            'url',
            'path',
            'os',
            'timers',
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
);
