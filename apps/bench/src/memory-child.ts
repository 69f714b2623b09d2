// Run by memory.ts as `node --expose-gc --import tsx src/memory-child.ts <client index> <requests>`:
// one client, a no-op transport, `requests` requests, heap measured after full GCs.
import { axiosClients, fetchClients } from './clients.js';
import { fakeSeed } from './overhead.js';
import { noopAxiosAdapter, noopFetch } from './transport.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const [kind, index, total] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 1_000_000)];
const factory = (kind === 'axios' ? axiosClients : fetchClients)[index];
if (!factory) throw new Error(`no ${kind} client ${index}`);
const client = factory(
  { baseUrl: 'http://127.0.0.1:9', username: 'admin', password: 'password' },
  fakeSeed(),
  kind === 'axios' ? { adapter: noopAxiosAdapter } : { fetch: noopFetch },
);

const BATCH = 100;
async function run(n: number): Promise<void> {
  for (let done = 0; done < n; done += BATCH) {
    const results = await Promise.all(Array.from({ length: BATCH }, () => client.get('/api/echo')));
    if (results.includes(false)) throw new Error(`${client.name}: a request failed`);
  }
}

const settle = async () => {
  for (let i = 0; i < 3; i += 1) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return process.memoryUsage().heapUsed;
};

await run(10_000);
const before = await settle();
const t0 = performance.now();
await run(total);
const ms = performance.now() - t0;
const after = await settle();
process.stdout.write(`${JSON.stringify({ name: client.name, before, after, ms, total })}\n`);
process.exit(0);
