// Loads the CommonJS build of @auth/core next to the ESM sources the tests run on: two real copies
// of the package in one process, as an app gets with a CJS dependency and an ESM one (or two
// installed versions). Builds it first when it is missing or older than the sources.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as core from '@auth/core';

type Core = typeof core;

const coreDir = fileURLToPath(new URL('..', import.meta.url));
const cjsEntry = join(coreDir, 'dist', 'index.cjs');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function loadCjsCore(): Core {
  if (!existsSync(cjsEntry) || statSync(cjsEntry).mtimeMs < newestSource(join(coreDir, 'src'))) {
    try {
      execFileSync('npx', ['--no-install', 'tsup'], { cwd: coreDir, stdio: 'pipe', timeout: 240_000 });
    } catch (error) {
      const detail = String((error as { stderr?: unknown }).stderr ?? error).slice(-2_000);
      throw new Error(
        `the dual-package test needs the CommonJS build of @auth/core (${cjsEntry}); building it failed. Run \`npx -y pnpm@10.34.9 --filter @auth/core build\`.\n${detail}`,
      );
    }
  }
  return createRequire(import.meta.url)(cjsEntry) as Core;
}
