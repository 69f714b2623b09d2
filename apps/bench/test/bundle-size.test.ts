// CI's budget on what a browser app ships: each of our bundles (built from the packages' dist, as the
// bench measures them) must stay within the budget stated in src/bundle-targets.ts.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { bundleEntries } from '../src/bundle-targets.js';
import { largestInputs, measureBundle } from '../src/bundle-size.js';

const require = createRequire(new URL('../package.json', import.meta.url));
const builtOrOptional = (module: string, optional: boolean | undefined): boolean => {
  try {
    require.resolve(module);
    return true;
  } catch {
    if (optional) return false;
    throw new Error(
      `${module} does not resolve from apps/bench: build it first (turbo runs the packages' build before this test) and list it in apps/bench/package.json`,
    );
  }
};

describe('bundle weight in a browser app (budgets in src/bundle-targets.ts)', () => {
  for (const entry of bundleEntries.filter((e) => e.ours && e.budgetGzip !== undefined)) {
    const present = entry.imports.every(([module]) => builtOrOptional(module, entry.optional));
    it.skipIf(!present)(`${entry.name}: at most ${entry.budgetGzip} bytes min+gzip`, async () => {
      const size = await measureBundle(entry);
      const why = largestInputs(size, 6)
        .map(([path, bytes]) => `${path} ${bytes}`)
        .join(', ');
      expect(size.gzip, `min+gzip ${size.gzip} bytes; largest inputs (minified bytes): ${why}`).toBeLessThanOrEqual(
        entry.budgetGzip!,
      );
      // Bottleneck is loaded only by apps that pass limiter settings: never in what every page loads.
      expect(largestInputs(size, 100).map(([path]) => path)).not.toContainEqual(expect.stringContaining('bottleneck'));
    });
  }
});
