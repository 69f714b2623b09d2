// The conformance matrix: the suite of suite/conformance.mjs, unchanged, on every runtime we claim,
// against the built packages and the reference servers started here (one vitest test per runtime
// and scenario, so a failure names both). Writes results/latest.json, from which the root README's
// runtime table is generated (scripts/readme-table.mjs); the last test checks that table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { listen, readRawBody, type RunningServer } from '@auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScenarios } from '../suite/conformance.mjs';
import { renderTable, readTable } from '../scripts/readme-table.mjs';
import { startControl, type Control } from './control.js';
import { appDir, bundle, runScript, scriptRuntimes, startWorkerd, type Result } from './runtimes.js';

/** The scenario names a runtime runs: built from dummies, only which packages it was handed matters. */
function namesFor(opts: { axios: boolean; auth0: boolean; browser?: boolean }): string[] {
  const stub = {};
  const modules = {
    core: stub,
    fetchAdapter: stub,
    olAdmin: stub,
    olMember: stub,
    olApiKey: stub,
    drPassword: stub,
    ...(opts.auth0 ? { drAuth0: stub } : {}),
    ...(opts.axios ? { axios: stub, axiosAdapter: stub } : {}),
    browser: opts.browser === true,
  };
  return buildScenarios(modules as never).map((s: { name: string }) => s.name);
}

const all: Record<string, Result[]> = {};

/** Declares one runtime's tests: `run` produces its results once, each scenario is then a test. */
function matrix(runtime: string, names: string[], run: (control: Control) => Promise<Result[]>) {
  describe(runtime, () => {
    let control: Control;
    let results: Result[] | undefined;
    let failure: unknown;
    beforeAll(async () => {
      control = await startControl(runtime === 'Chromium' ? { wrap: corsProxy } : {});
      const started = Date.now();
      try {
        results = await run(control);
        console.log(`${runtime}: ${results.length} scenarios in ${Math.round((Date.now() - started) / 1000)} s`);
        all[runtime] = results;
      } catch (e) {
        failure = e;
      }
    }, 600_000);
    afterAll(() => control?.close());
    it.each(names)(`%s [${runtime}]`, (name) => {
      if (failure) throw failure;
      const r = results!.find((x) => x.name === name);
      expect(r, `${runtime} did not run "${name}"`).toBeDefined();
      if (!r!.ok) throw new Error(`${runtime}: "${name}" failed: ${r!.error}`);
    });
  });
}

const withAxios = namesFor({ axios: true, auth0: true });
for (const runtime of Object.keys(scriptRuntimes))
  matrix(runtime, withAxios, (control) => runScript(runtime, control.url));

// workerd: one worker request per scenario, as a Worker would see traffic.
matrix('Cloudflare Workers (workerd)', namesFor({ axios: false, auth0: true }), async (control) => {
  const worker = await startWorkerd(
    await bundle('worker.mjs', { platform: 'browser', conditions: ['workerd', 'worker'] }),
  );
  try {
    const out: Result[] = [];
    for (const name of namesFor({ axios: false, auth0: true })) {
      const res = await fetch(
        `${worker.url}/run?control=${encodeURIComponent(control.url)}&scenario=${encodeURIComponent(name)}`,
      );
      const text = await res.text();
      if (res.status !== 200)
        out.push({ name, packages: [], ok: false, error: `worker answered ${res.status}: ${text.slice(0, 500)}` });
      else out.push(...(JSON.parse(text) as Result[]));
    }
    return out;
  } finally {
    await worker.close();
  }
});

/**
 * The browser page is served from its own 127.0.0.1 origin; every reference server is reached
 * through a CORS proxy (as an API that serves browsers would answer), the capture server answers
 * CORS itself.
 */
async function corsProxy(upstream: string): Promise<RunningServer> {
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'authorization, content-type, x-auth-token',
    'access-control-allow-methods': 'GET, POST, PUT, DELETE',
    'access-control-expose-headers': 'retry-after, www-authenticate',
  };
  return listen(async (req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return void res.end();
    }
    const body = await readRawBody(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && !['host', 'connection', 'origin', 'referer', 'content-length'].includes(k))
        headers[k] = v;
    try {
      const up = await fetch(`${upstream}${req.url ?? '/'}`, {
        method: req.method,
        headers,
        body: body.length ? new Uint8Array(body) : undefined,
        redirect: 'manual',
      });
      const out: Record<string, string> = { ...cors };
      up.headers.forEach((v, k) => {
        if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k))
          out[k] = v;
      });
      const payload = Buffer.from(await up.arrayBuffer());
      res.writeHead(up.status, out);
      res.end(payload);
    } catch {
      res.socket?.destroy();
    }
  });
}

matrix('Chromium', namesFor({ axios: false, auth0: false, browser: true }), async (control) => {
  const code = await bundle('browser.mjs', { platform: 'browser' });
  const page = await listen((req, res) => {
    if (req.url === '/suite.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return void res.end(code);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><script type="module" src="/suite.js"></script>');
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(page.url);
    await tab.waitForFunction(() => typeof (globalThis as { runConformance?: unknown }).runConformance === 'function');
    return (await tab.evaluate(
      (url) => (globalThis as unknown as { runConformance(u: string): Promise<Result[]> }).runConformance(url),
      control.url,
    )) as Result[];
  } finally {
    await browser.close();
    await page.close();
  }
});

describe('README', () => {
  afterAll(() => {
    // The record of this run, from which `pnpm --filter @auth/runtimes readme` writes the table.
    mkdirSync(join(appDir, 'results'), { recursive: true });
    writeFileSync(join(appDir, 'results', 'latest.json'), `${JSON.stringify(all, null, 2)}\n`);
  });
  it('the runtime table in the root README is the one this run produces', () => {
    const readme = readFileSync(join(appDir, '../../README.md'), 'utf8');
    expect(readTable(readme), 'regenerate with `pnpm --filter @auth/runtimes readme` after a full run').toBe(
      renderTable(all),
    );
  });
});
