// Runner for the runtimes that run a script (Node, Deno, Bun): `<runtime> cli.mjs <control-url> [scenario…]`.
// Prints one line `CONFORMANCE <json results>` for the Node side to read.
import { runConformance } from './conformance.mjs';
import { modules } from './modules-axios.mjs';

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const [control, ...only] = args;
const results = await runConformance({ control, modules, only: only.length ? only : undefined });
console.log(`CONFORMANCE ${JSON.stringify(results)}`);
