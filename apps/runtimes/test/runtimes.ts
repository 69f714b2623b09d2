// Where the runtimes of the matrix come from (pinned dev dependencies of @auth/runtime-toolchain,
// never a global install) and how each one is started.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const appDir = fileURLToPath(new URL('..', import.meta.url));
export const suiteDir = join(appDir, 'suite');
const fromApp = createRequire(join(appDir, 'package.json'));
const toolchain = createRequire(fromApp.resolve('@auth/runtime-toolchain/package.json'));
const pkgDir = (name: string) => dirname(toolchain.resolve(`${name}/package.json`));

/** Absolute paths of the binaries (their packages' install scripts put the platform's binary there). */
export const binaries = {
  node20: process.execPath,
  node22: join(pkgDir('node22'), 'bin', 'node'),
  node24: join(pkgDir('node24'), 'bin', 'node'),
  deno: join(pkgDir('deno'), 'deno'),
  bun: join(pkgDir('bun'), 'bin', 'bun.exe'),
  workerd: join(pkgDir('workerd'), 'bin', 'workerd'),
};

export function requireBinary(path: string): string {
  if (!existsSync(path))
    throw new Error(`${path} is missing: run \`pnpm install\` (its package's install script provides it)`);
  return path;
}

/** Runtimes that run the script runner `suite/cli.mjs` directly against the workspace's node_modules. */
export const scriptRuntimes: Record<string, { bin: string; args: string[] }> = {
  'Node 20': { bin: binaries.node20, args: [] },
  'Node 22': { bin: binaries.node22, args: [] },
  'Node 24': { bin: binaries.node24, args: [] },
  // axios pulls in follow-redirects → debug, which reads the environment
  Deno: { bin: binaries.deno, args: ['run', '--allow-net=127.0.0.1', '--allow-env'] },
  Bun: { bin: binaries.bun, args: [] },
};

export interface Result {
  name: string;
  packages: string[];
  ok: boolean;
  error?: string;
}

/** Runs the whole suite once on a script runtime; resolves with its results (or rejects with its output). */
export function runScript(runtime: string, control: string): Promise<Result[]> {
  const { bin, args } = scriptRuntimes[runtime]!;
  return new Promise((resolve, reject) => {
    const child = spawn(requireBinary(bin), [...args, join(suiteDir, 'cli.mjs'), control], {
      cwd: appDir,
      env: { ...process.env, NO_COLOR: '1', NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('CONFORMANCE '));
      if (!line) return reject(new Error(`${runtime} exited ${code} without results:\n${out}\n${err}`.slice(0, 4000)));
      resolve(JSON.parse(line.slice('CONFORMANCE '.length)) as Result[]);
    });
  });
}

/** esbuild is installed as tsup's dependency; resolve it from there. */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
}
export async function loadEsbuild(): Promise<Esbuild> {
  const fromRoot = createRequire(join(appDir, '../../package.json'));
  const fromTsup = createRequire(fromRoot.resolve('tsup'));
  return (await import(fromTsup.resolve('esbuild'))) as Esbuild;
}

/** Bundles an entry of `suite/` (and the packages' dist it imports) into one ES module. */
export async function bundle(
  entry: string,
  opts: { platform: 'browser'; conditions?: string[]; define?: Record<string, string> },
): Promise<string> {
  const esbuild = await loadEsbuild();
  const out = await esbuild.build({
    entryPoints: [join(suiteDir, entry)],
    absWorkingDir: appDir,
    bundle: true,
    format: 'esm',
    platform: opts.platform,
    conditions: opts.conditions ?? [],
    define: opts.define ?? {},
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export interface Workerd {
  url: string;
  /** What workerd printed (its warnings name cross-request I/O). */
  readonly output: string;
  close(): Promise<void>;
}

/**
 * Starts workerd itself on a bundled worker: one socket on 127.0.0.1 (port chosen by workerd and
 * reported on the control fd), and a global outbound that may reach loopback, where the reference
 * servers are (workerd's default `internet` service refuses private and local addresses).
 */
export async function startWorkerd(code: string): Promise<Workerd> {
  const dir = mkdtempSync(join(tmpdir(), 'auth-workerd-'));
  writeFileSync(join(dir, 'worker.js'), code);
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
  globalOutbound = "loopback",
);
`,
  );
  const child: ChildProcess = spawn(
    requireBinary(binaries.workerd),
    ['serve', join(dir, 'config.capnp'), '--control-fd=3', '--verbose'],
    {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const control = child.stdio[3] as NodeJS.ReadableStream;
    control.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        try {
          const msg = JSON.parse(line) as { event?: string; port?: number };
          if (msg.event === 'listen' && msg.port) resolve(msg.port);
        } catch {
          /* partial line */
        }
      }
    });
    child.on('exit', (c) => reject(new Error(`workerd exited ${c}:\n${output}`)));
    setTimeout(() => reject(new Error(`workerd did not listen within 30 s:\n${output}`)), 30_000).unref();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    get output() {
      return output;
    },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
