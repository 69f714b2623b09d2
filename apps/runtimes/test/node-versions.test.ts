// Node 22 and 24 run the whole existing test suite too, not only the conformance suite: every
// workspace package whose tests use the shared vitest config is run again under each binary (the
// same vitest, the same sources), one package after the other. Node 20 runs them in `pnpm test`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDir, binaries, requireBinary } from './runtimes.js';

const root = join(appDir, '../..');
const vitest = join(root, 'node_modules/vitest/vitest.mjs');
const SHARED = 'vitest run --config ../../vitest.shared.ts';

/** Workspace packages whose `test` script is the shared vitest run (new packages are picked up). */
const packages = ['packages', 'apps']
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(group, name)))
  .filter((dir) => {
    const file = join(root, dir, 'package.json');
    return (
      existsSync(file) &&
      (JSON.parse(readFileSync(file, 'utf8')) as { scripts?: { test?: string } }).scripts?.test === SHARED
    );
  });

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

function runPackage(
  node: string,
  dir: string,
  out: string,
): Promise<{ code: number | null; report?: Report; tail: string }> {
  return new Promise((resolve, reject) => {
    // the report goes to our own folder: the package's .vitest-results belongs to the Node 20 run
    const child = spawn(
      requireBinary(node),
      [vitest, 'run', '--config', '../../vitest.shared.ts', `--outputFile.json=${out}`],
      {
        cwd: join(root, dir),
        env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    const keep = (d: Buffer) => (log = (log + d.toString()).slice(-6000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        report: existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Report) : undefined,
        tail: log,
      }),
    );
  });
}

describe.each([
  ['Node 22', binaries.node22],
  ['Node 24', binaries.node24],
])('the whole test suite on %s', (label, node) => {
  const dir = join(appDir, '.vitest-results', label.replace(' ', '').toLowerCase());
  it.each(packages)(
    `%s [${label}]`,
    async (pkg) => {
      mkdirSync(dir, { recursive: true });
      const out = join(dir, `${pkg.replace('/', '-')}.json`);
      rmSync(out, { force: true });
      const { code, report, tail } = await runPackage(node, pkg, out);
      const failed =
        report?.testResults.flatMap((f) =>
          f.assertionResults
            .filter((a) => a.status === 'failed')
            .map((a) => `${a.fullName}: ${a.failureMessages[0]?.slice(0, 300) ?? ''}`),
        ) ?? [];
      expect(failed, `${pkg} on ${label}`).toEqual([]);
      expect(report, `${pkg} on ${label} wrote no report:\n${tail}`).toBeDefined();
      expect(report!.numPassedTests, `${pkg} on ${label} ran no test`).toBeGreaterThan(0);
      expect(code, `${pkg} on ${label} exited ${code}:\n${tail}`).toBe(0);
    },
    900_000,
  );
});
