import { mkdirSync, writeFileSync } from 'node:fs';
import { benchCore } from './core.js';
import { benchOverheadInProcess, benchOverheadLoopback } from './overhead.js';
import { benchMemory } from './memory.js';
import { benchRateLimit } from './rate-limit.js';
import { benchStorms } from './storms.js';

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

const header = `# Benchmarks\n\nNode ${process.version}, ${new Date().toISOString()}. Every table is measured side by side in one run.\n`;
const parts: string[] = [header];
for (const name of names) {
  process.stderr.write(`bench: ${name}…\n`);
  const md = await sections[name]!();
  console.log(`\n${md}\n`);
  parts.push(md);
}
const out = new URL('../results/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL('latest.md', out), `${parts.join('\n\n')}\n`);
console.log(`written to apps/bench/results/latest.md`);
