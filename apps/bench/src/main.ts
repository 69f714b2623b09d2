import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { benchCore } from './core.js';
import { benchOverheadInProcess, benchOverheadLoopback } from './overhead.js';
import { benchMemory } from './memory.js';
import { benchRateLimit } from './rate-limit.js';
import { benchStorms } from './storms.js';
import { targetsMarkdown } from './targets.js';

// `pnpm bench [section...]` runs every section (or the named ones) side by side in one process and
// writes the markdown report to apps/bench/results/latest.md.
const sections: Record<string, () => Promise<string>> = {
  core: benchCore,
  overhead: benchOverheadInProcess,
  loopback: benchOverheadLoopback,
  storms: () => benchStorms(),
  ratelimit: benchRateLimit,
  memory: () => benchMemory(),
};

const wanted = process.argv.slice(2).filter((a) => a !== '--');
const names = wanted.length ? wanted : Object.keys(sections);
const unknown = names.filter((n) => !(n in sections));
if (unknown.length) {
  console.error(`unknown bench section(s): ${unknown.join(', ')}; known: ${Object.keys(sections).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');
const header = `# Benchmarks\n\nNode ${process.version}, ${cpus().length} CPUs, ${new Date().toISOString()}. Every table is measured side by side in one run. Load average (1/5/15 min) at the start: ${load()}.\n`;
const parts: string[] = [header];
for (const name of names) {
  process.stderr.write(`bench: ${name}…\n`);
  const md = await sections[name]!();
  console.log(`\n${md}\n`);
  parts.push(md);
}
parts.push(`Sections: ${names.join(', ')}. Wall time of the run: ${((performance.now() - started) / 60_000).toFixed(1)} min; load average at the end: ${load()}.`);
const targets = targetsMarkdown();
if (targets) {
  console.log(`\n${targets}\n`);
  parts.splice(1, 0, targets);
}
const out = new URL('../results/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL('latest.md', out), `${parts.join('\n\n')}\n`);
console.log(`written to apps/bench/results/latest.md`);
