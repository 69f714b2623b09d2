// Bundle weight: what a browser app ships for each entry of bundle-targets.ts, built from the
// packages' dist as an app's bundler would (esbuild, platform browser, minified, tree-shaken), then
// gzip (zlib level 9) and brotli (quality 11). Runnable on its own: `tsx src/bundle-size.ts`
// (`--why` adds the largest inputs of each bundle, from esbuild's metafile).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { bundleEntries, type BundleEntry } from './bundle-targets.js';
import { table } from './measure.js';
import { report } from './targets.js';

const benchDir = fileURLToPath(new URL('..', import.meta.url));

export interface BundleSize {
  entry: BundleEntry;
  /** What the page loads up front, minified (`undefined` when an optional entry's packages do not resolve yet). */
  minified?: number;
  gzip?: number;
  brotli?: number;
  /** Chunks only a dynamic `import()` loads (Bottleneck, for a `limiter` given as settings), min+gzip. */
  lazyGzip?: number;
  metafile?: Metafile;
}

/** Whether every module of the entry resolves from apps/bench (an optional package may not exist yet). */
function resolvable(entry: BundleEntry): boolean {
  const require = createRequire(`${benchDir}package.json`);
  try {
    for (const [module] of entry.imports) require.resolve(module);
    return true;
  } catch {
    return false;
  }
}

export async function measureBundle(entry: BundleEntry): Promise<BundleSize> {
  if (entry.optional && !resolvable(entry)) return { entry };
  const contents = entry.imports
    .map(([module, names]) => `export { ${names.join(', ')} } from ${JSON.stringify(module)};`)
    .join('\n');
  const out = await build({
    stdin: { contents, resolveDir: benchDir, loader: 'js', sourcefile: 'app-entry.js' },
    bundle: true,
    // As an app's bundler does: what a dynamic import() loads goes to a chunk of its own, fetched on demand.
    splitting: true,
    outdir: `${benchDir}.bundle-size`,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    treeShaking: true,
    external: [...(entry.external ?? [])],
    metafile: true,
    // Resolve packages as an app does (their package.json, so their dist), not through the repo's tsconfig paths to
    // sources.
    tsconfigRaw: {},
    write: false,
    logLevel: 'silent',
  });
  // One entry: its chunk is all the page loads up front; every other chunk is behind an import().
  const entryOut = Object.keys(out.metafile.outputs).find(
    (path) => out.metafile.outputs[path]!.entryPoint !== undefined,
  );
  const entryFile = out.outputFiles.find((f) => f.path.endsWith(`/${entryOut}`) || f.path === entryOut);
  if (!entryFile) throw new Error(`${entry.name}: esbuild wrote no entry chunk`);
  const bytes = entryFile.contents;
  const lazy = out.outputFiles.filter((f) => f !== entryFile && f.path.endsWith('.js'));
  return {
    entry,
    minified: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    lazyGzip: lazy.reduce((sum, f) => sum + gzipSync(f.contents, { level: 9 }).length, 0),
    metafile: out.metafile,
  };
}

export async function measureBundles(): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const entry of bundleEntries) sizes.push(await measureBundle(entry));
  return sizes;
}

const kb = (bytes: number | undefined) => (bytes === undefined ? '—' : `${(bytes / 1000).toFixed(1)} KB`);

/** The largest inputs of a bundle (bytes they contribute to the minified output). */
export function largestInputs(size: BundleSize, count = 12): [string, number][] {
  const output = Object.values(size.metafile?.outputs ?? {}).find((o) => o.entryPoint !== undefined);
  if (!output) return [];
  return Object.entries(output.inputs)
    .map(([path, { bytesInOutput }]): [string, number] => [
      path.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, ''),
      bytesInOutput,
    ])
    .sort((a, b) => b[1] - a[1])
    .slice(0, count);
}

/** The bench section: the table, and ours against their budgets as targets. */
export async function benchBundles(): Promise<string> {
  const sizes = await measureBundles();
  for (const s of sizes) {
    if (!s.entry.ours || s.entry.budgetGzip === undefined || s.gzip === undefined) continue;
    report({
      target: `${s.entry.name}: at most ${kb(s.entry.budgetGzip)} min+gzip`,
      measured: kb(s.gzip),
      met: s.gzip <= s.entry.budgetGzip,
    });
  }
  const rows = sizes.map((s) => [
    s.entry.name,
    kb(s.minified),
    kb(s.gzip),
    kb(s.brotli),
    s.lazyGzip ? kb(s.lazyGzip) : s.gzip === undefined ? '—' : 'none',
    s.entry.budgetGzip === undefined ? '—' : kb(s.entry.budgetGzip),
  ]);
  return [
    '## Bundle weight in a browser app',
    '',
    "What an app ships: a small entry re-exporting what it would use (the strategy, the session, the adapter; a peer's documented entry points), bundled from the built packages by esbuild (`platform: 'browser'`, ESM, minified, tree-shaken), then gzip (zlib level 9) and brotli (quality 11). The sizes are what the page loads up front; a chunk behind a dynamic `import()` (Bottleneck, only for an adapter `limiter` given as settings) is listed apart, as an app's bundler splits it off. axios is not counted where the app ships it anyway. 1 KB = 1,000 bytes. A row whose package does not exist yet shows —.",
    '',
    table(['bundle', 'minified', 'min+gzip', 'min+brotli', 'loaded on demand (min+gzip)', 'budget (min+gzip)'], rows),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await benchBundles());
  if (process.argv.includes('--why')) {
    for (const s of await measureBundles()) {
      if (!s.metafile) continue;
      console.log(`\n### ${s.entry.name}\n`);
      console.log(table(['input', 'bytes in minified output'], largestInputs(s)));
    }
  }
}
