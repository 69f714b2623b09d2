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
    // The core, the fetch adapter and the browser store run in browsers and edge runtimes: no Node built-ins.
    files: ['packages/core/src/**', 'packages/fetch-adapter/src/**', 'packages/browser-store/src/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'must run outside Node' }], paths: ['fs', 'http', 'https', 'crypto', 'events', 'util', 'buffer', 'stream', 'net', 'url', 'path', 'os', 'timers'] }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
);
