// `pnpm demo --browser` as a user runs it (tsx src/main.ts), opened in headless Chromium: log in in
// one tab, expire the access token, fire a burst in every tab, and read what the page shows.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage } from '@auth/testing/browser';
import { BROWSER_MEMBER as MEMBER } from '../src/browser/server.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const artifacts = `${appDir}test-artifacts`;
const TABS = 4;

let child: ChildProcess;
let output = '';
let url: string;
let browser: Browser;

/** Starts the demo and resolves with the URL it prints. */
function startDemo(args: string[]): Promise<string> {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: appDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const found = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (found) resolve(found[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the demo exited (${code}) before printing its URL:\n${output}`)));
  });
}

beforeAll(async () => {
  for (const pkg of ['core', 'fetch-adapter', 'openloyalty-member', 'browser-store']) {
    const dist = fileURLToPath(new URL(`../../../packages/${pkg}/dist/index.js`, import.meta.url));
    if (!existsSync(dist))
      throw new Error(`build the packages first: ${dist} is missing (pnpm demo and turbo build them)`);
  }
  // A long access-token lifetime: no renewal ahead of expiry of its own during the test, only the one it causes.
  url = await startDemo(['--browser', '--access-ttl', '600']);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

const text = async (page: Page, selector: string) => (await page.locator(selector).textContent())?.trim();
const frame = (page: Page, n: number) => page.frameLocator(`#tab-${n}`);
const everyTab = (page: Page, expression: string) =>
  page.waitForFunction(
    `[...document.querySelectorAll('iframe.tab')].every((f) => { const w = f.contentWindow; return ${expression}; })`,
    undefined,
    { timeout: 30_000 },
  );

describe('pnpm demo --browser', () => {
  it('one tab renews, the others adopt, nothing fails, the server refreshes once; a reload logs nobody in, a logout reaches every tab', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const { page, errors } = await openPage(context, url, { ready: 'globalThis.dashboardReady === true' });
    await everyTab(page, "w.demoTab !== undefined && w.document.getElementById('login').hidden === false");

    // Log in in tab 1, with the form: every tab is signed in on that one login.
    await frame(page, 1).locator('#password').fill(MEMBER.password);
    await frame(page, 1).getByRole('button', { name: 'Log in' }).click();
    await everyTab(page, 'w.demoTab.stats().signedIn');
    await expect.poll(() => text(page, '#server-logins'), { timeout: 10_000 }).toBe('1');
    expect(await frame(page, 1).locator('#password').inputValue()).toBe('');

    await page.locator('#expire').click();
    await page.waitForSelector('#action[data-done="expire"]', { timeout: 30_000 });
    await page.locator('#burst').click();
    await page.waitForSelector('#action[data-done="burst"]', { timeout: 60_000 });
    expect(await text(page, '#action')).toBe(`Burst done: ${50 * TABS} ok, 0 failed.`);

    const summary = page.locator('#summary');
    await expect
      .poll(async () => (await summary.getAttribute('data-adopted'))?.split(',').filter(Boolean).length, {
        timeout: 10_000,
      })
      .toBe(TABS - 1);
    const renewed = (await summary.getAttribute('data-renewed'))!.split(',');
    const adopted = (await summary.getAttribute('data-adopted'))!.split(',');
    expect(renewed).toHaveLength(1);
    expect(new Set([...renewed, ...adopted])).toEqual(new Set(['1', '2', '3', '4']));
    expect(await summary.getAttribute('data-failed')).toBe('0');
    expect(Number(await summary.getAttribute('data-ok'))).toBeGreaterThanOrEqual(50 * TABS);
    expect(await text(page, '#summary')).toContain(`renewed by tab ${renewed[0]} ·`);
    // What each tab shows agrees: the renewing tab says "renewed 1", the others "adopted".
    for (let n = 1; n <= TABS; n += 1) {
      const renewedHere = await frame(page, n).locator('#renewed').textContent();
      expect(renewedHere, `tab ${n}`).toBe(String(n) === renewed[0] ? '1' : '0');
      if (String(n) !== renewed[0])
        expect(Number(await frame(page, n).locator('#adopted').textContent()), `tab ${n}`).toBeGreaterThanOrEqual(1);
      expect(await frame(page, n).locator('#failed').textContent(), `tab ${n}`).toBe('0');
    }
    // The server's own counters, as the page shows them: one refresh, none rejected, the one login.
    await expect.poll(() => text(page, '#server-refreshes'), { timeout: 10_000 }).toBe('1');
    expect(await text(page, '#server-refreshesRejected')).toBe('0');
    expect(await text(page, '#server-logins')).toBe('1');
    // Every tab shows the same token, as a fingerprint: never the token itself.
    const fingerprints = await page.evaluate(() =>
      [...document.querySelectorAll('iframe.tab')].map(
        (f) => (f as HTMLIFrameElement).contentWindow!.document.getElementById('status')!.textContent,
      ),
    );
    expect(new Set(fingerprints.map((s) => s?.split(' ')[1])).size).toBe(1);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}/browser-demo.png`, fullPage: true });

    // Neither the password nor a token is on the page (the tokens are in the origin's localStorage).
    const stored = await frame(page, 1)
      .locator('body')
      .evaluate(() => JSON.stringify({ ...localStorage }));
    const tokens = stored.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? [];
    expect(tokens.length).toBeGreaterThanOrEqual(1);
    const shown = await page.evaluate(
      () =>
        document.body.innerText +
        [...document.querySelectorAll('iframe.tab')]
          .map((f) => (f as HTMLIFrameElement).contentWindow!.document.body.innerText)
          .join('\n'),
    );
    for (const secret of [MEMBER.password, ...tokens]) expect(shown).not.toContain(secret);
    expect(stored).not.toContain(MEMBER.password);

    // Reload tab 2: it restores its tokens from storage, no login.
    await frame(page, 2).getByRole('button', { name: 'Reload' }).click();
    await everyTab(page, 'w.demoTab !== undefined && w.demoTab.stats().signedIn');
    await frame(page, 2).getByRole('button', { name: 'Send a request' }).click();
    await expect.poll(() => frame(page, 2).locator('#ok').textContent(), { timeout: 10_000 }).toBe('1');
    expect(await text(page, '#server-logins')).toBe('1');

    // Log out in tab 3: every tab is signed out and shows its login form.
    await frame(page, 3).getByRole('button', { name: 'Log out' }).click();
    await everyTab(page, "!w.demoTab.stats().signedIn && w.document.getElementById('login').hidden === false");
    expect(errors).toEqual([]);
    await context.close();

    // Ctrl-C (SIGTERM here): the demo stops cleanly; it never printed a secret.
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
    expect(output).not.toContain(MEMBER.password);
    expect(output).not.toMatch(/eyJ[\w-]+\./);
  }, 120_000);
});
