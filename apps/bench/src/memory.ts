import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { axiosClients, fetchClients } from './clients.js';
import { table } from './measure.js';
import { report } from './targets.js';

interface Sample {
  name: string;
  before: number;
  after: number;
  ms: number;
  total: number;
}

const root = fileURLToPath(new URL('..', import.meta.url));

function child(kind: 'axios' | 'fetch', index: number, total: number): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'src/memory-child.ts', kind, String(index), String(total)],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        return reject(
          new Error(`memory child ${kind} ${index} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`),
        );
      resolve(JSON.parse(line) as Sample);
    });
  });
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Section 4: heap after 1,000,000 requests through each client (one child process each, two at a time). */
export async function benchMemory(total = 1_000_000): Promise<string> {
  const jobs: ['axios' | 'fetch', number][] = [
    ...axiosClients.map((_, i) => ['axios', i] as ['axios', number]),
    ...fetchClients.map((_, i) => ['fetch', i] as ['fetch', number]),
  ];
  const samples: Sample[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const [kind, index] = jobs[i]!;
      samples[i] = await child(kind, index, total);
      process.stderr.write(`  memory ${samples[i]!.name}: ${mb(samples[i]!.before)} → ${mb(samples[i]!.after)}\n`);
    }
  };
  await Promise.all([worker(), worker()]);
  for (const s of samples.filter((x) => x.name.includes('@auth/'))) {
    const growth = s.after - s.before;
    report({
      target: `${s.name}: no heap growth beyond a small constant over ${total.toLocaleString('en-US')} requests (≤ 1 MB)`,
      measured: `${growth >= 0 ? '+' : ''}${(growth / 1024).toFixed(0)} KB`,
      met: growth <= 1024 * 1024,
    });
  }
  return [
    '## Memory',
    '',
    `Heap used (after full GCs, \`node --expose-gc\`, one child process per client) after 10,000 warm-up requests and after ${total.toLocaleString('en-US')} more, through a no-op transport, 100 at a time. (Two children run at once, so their speeds are not compared here.)`,
    '',
    table(
      ['client', 'heap after warm-up', `heap after ${total.toLocaleString('en-US')} requests`, 'growth'],
      samples.map((s) => [
        s.name,
        mb(s.before),
        mb(s.after),
        `${s.after >= s.before ? '+' : ''}${((s.after - s.before) / 1024).toFixed(0)} KB`,
      ]),
    ),
  ].join('\n');
}
