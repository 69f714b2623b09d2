import { rmSync } from 'node:fs';
import type { Options } from 'tsup';

/**
 * The build every package shares: ESM + CJS + declarations for both.
 * `bundleInCjs` lists ESM-only dependencies (jose 6, openid-client 6) that the CJS build inlines,
 * so `require()` works on every Node 20 release, not only those with require(esm).
 */
export function packageBuild(opts: { entry?: string[]; bundleInCjs?: string[] } = {}): Options[] {
  rmSync('dist', { recursive: true, force: true });
  const common: Options = {
    entry: opts.entry ?? ['src/index.ts'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
    splitting: false,
    treeshake: true,
  };
  return [
    { ...common, format: ['esm'] },
    { ...common, format: ['cjs'], noExternal: opts.bundleInCjs ?? [] },
  ];
}
