import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { benchBundles } from './bundle-size.js';
import { benchCore } from './core.js';
import { benchOverheadInProcess, benchOverheadLoopback } from './overhead.js';
import { benchMemory } from './memory.js';
import { benchRateLimit } from './rate-limit.js';
import { benchStorms } from './storms.js';
import { report, targetsMarkdown } from './targets.js';

// `pnpm bench [section...]` runs every section (or the named ones) side by side in one process and
// writes the markdown report to apps/bench/results/latest.md.
const sections: Record<string, () => Promise<string>> = {
  core: benchCore,
  overhead: benchOverheadInProcess,
  loopback: benchOverheadLoopback,
  storms: () => benchStorms(),
  ratelimit: benchRateLimit,
  memory: () => benchMemory(),
  bundles: benchBundles,
};

const wanted = process.argv.slice(2).filter((a) => a !== '--');
const names = wanted.length ? wanted : Object.keys(sections);
const unknown = names.filter((n) => !(n in sections));
if (unknown.length) {
  console.error(`unknown bench section(s): ${unknown.join(', ')}; known: ${Object.keys(sections).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
const header = `# Benchmarks\n\nNode ${process.version}, ${cpus().length} CPUs, ${new Date().toISOString()}. Every table is measured side by side in one run. Load average (1/5/15 min) at the start: ${load()}.\n`;
const parts: string[] = [header];
const failed: string[] = [];
for (const name of names) {
  process.stderr.write(`bench: ${name}…\n`);
  let md: string;
  try {
    md = await sections[name]!();
  } catch (error) {
    // One section's failure (a peer that cannot even be set up, say) is reported, not allowed to
    // throw away the other sections' figures: the run goes on and still writes the results file.
    failed.push(name);
    const message = error instanceof Error ? error.message : String(error);
    md = `## Section \`${name}\` failed\n\nThis section did not complete in this run: ${message.split('\n')[0]}`;
    process.stderr.write(`bench: ${name} failed: ${message}\n`);
    report({ target: `section \`${name}\` completes`, measured: `failed: ${message.split('\n')[0]}`, met: false });
  }
  console.log(`\n${md}\n`);
  parts.push(md);
}
parts.push(
  `Sections: ${names.join(', ')}. Wall time of the run: ${((performance.now() - started) / 60_000).toFixed(1)} min; load average at the end: ${load()}.`,
);
const targets = targetsMarkdown();
if (targets) {
  console.log(`\n${targets}\n`);
  parts.splice(1, 0, targets);
}
const out = new URL('../results/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL('latest.md', out), `${parts.join('\n\n')}\n`);
console.log(`written to apps/bench/results/latest.md`);
if (failed.length) {
  console.error(`bench: section(s) failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
