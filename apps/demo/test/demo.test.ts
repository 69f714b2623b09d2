import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createOpenLoyaltyServer, listen } from '@auth/testing';
import { readConfig, DemoConfigError } from '../src/config.js';
import { Timeline } from '../src/timeline.js';
import { runTour, summaryTable, type StepId, type StepResult } from '../src/tour.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs the demo as users do (`tsx src/main.ts`), without a terminal. */
function demo(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: appDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the tour on the embedded servers', () => {
  it('plays every step with the expected figures', async () => {
    let out = '';
    const summary = await runTour(
      await readConfig([], {}),
      new Timeline({ write: (t) => void (out += t), tty: false }),
    );
    const step = (id: StepId): StepResult => summary.steps.find((s) => s.id === id)!;

    expect(summary.steps.map((s) => [s.id, s.status])).toEqual([
      ['logins', 'ok'],
      ['concurrent', 'ok'],
      ['expiry', 'ok'],
      ['revoked', 'ok'],
      ['burst', 'ok'],
      ['dead-refresh', 'ok'],
      ['api-key', 'ok'],
      ['datarhei-password', 'ok'],
      ['datarhei-auth0', 'ok'],
    ]);
    expect(summary.ok).toBe(true);
    for (const s of summary.steps) expect(s.failed, s.title).toBe(0);

    expect(step('logins')).toMatchObject({ logins: 2, refreshes: 0 });
    // 400 concurrent requests through two adapters on one session: no auth call at all.
    expect(step('concurrent')).toMatchObject({ requests: 400, logins: 0, refreshes: 0 });
    // The storms: exactly one refresh each, no login.
    expect(step('expiry')).toMatchObject({ requests: 200, refreshes: 1, logins: 0 });
    expect(step('revoked')).toMatchObject({ requests: 200, refreshes: 1, logins: 0 });
    // The figures are the server's, not the tour's claims: every request sent with the revoked token
    // was answered 401 (then replayed), and the server saw exactly the auth calls the session reports.
    expect(step('revoked').rejected).toBe(200);
    expect(step('expiry').rejected).toBe(0);
    for (const id of ['concurrent', 'expiry', 'revoked', 'dead-refresh'] as const)
      expect(step(id).serverAuthCalls, id).toBe(step(id).logins + step(id).refreshes);
    // 25 forced logins, never more than 20 in any window, no 429.
    expect(step('burst')).toMatchObject({ logins: 25, rateLimited: 0 });
    expect(step('burst').maxAuthCallsInWindow).toBeGreaterThan(0);
    expect(step('burst').maxAuthCallsInWindow).toBeLessThanOrEqual(20);
    // The dead refresh token: one (rejected) refresh, then one login.
    expect(step('dead-refresh')).toMatchObject({ requests: 100, refreshes: 1, logins: 1 });
    expect(step('api-key')).toMatchObject({ requests: 50, logins: 0, refreshes: 0 });
    expect(step('datarhei-password')).toMatchObject({ requests: 40, logins: 1, refreshes: 1 });
    expect(step('datarhei-auth0')).toMatchObject({ requests: 20, logins: 1 });

    // Without a terminal the timeline is plain lines: no carriage returns, no escape codes.
    expect(out).not.toContain('\r');
    expect(out).not.toContain('\u001b[');
    expect(out).toContain('waiting for the 12 s access token to expire');
    const table = summaryTable(summary);
    expect(table.split('\n')).toHaveLength(2 + summary.steps.length);
    expect(table).not.toContain('FAILED');
  }, 60_000);
});

describe('configuration', () => {
  it('reads real targets from flags and environment variables, secrets from the environment only', async () => {
    const config = await readConfig(
      [
        '--openloyalty-url',
        'https://ol.example.test/',
        '--openloyalty-admin-user=alice',
        '--datarhei-url',
        'https://core.example.test',
      ],
      {
        OPENLOYALTY_ADMIN_PASSWORD: 'pw-1',
        DATARHEI_USER: 'bob',
        DATARHEI_PASSWORD: 'pw-2',
      },
    );
    expect(config.openloyalty).toMatchObject({
      url: 'https://ol.example.test',
      adminUser: 'alice',
      adminPassword: 'pw-1',
      storeCode: 'default',
    });
    expect(config.datarhei).toMatchObject({ url: 'https://core.example.test', user: 'bob', password: 'pw-2' });
    await expect(readConfig(['--openloyalty-password', 'x'], {})).rejects.toThrow(
      /unknown option --openloyalty-password/,
    );
  });

  it('--browser: its own options, on the embedded server only', async () => {
    expect((await readConfig(['--', '--browser'], {})).browser).toEqual({ tabs: 4, accessTokenTtlSec: 20 });
    expect((await readConfig(['--browser', '--tabs', '3', '--access-ttl=60'], {})).browser).toEqual({
      tabs: 3,
      accessTokenTtlSec: 60,
    });
    expect((await readConfig([], {})).browser).toBeUndefined();
    await expect(readConfig(['--tabs', '3'], {})).rejects.toThrow(new DemoConfigError('--tabs goes with --browser'));
    await expect(readConfig(['--browser', '--tabs', '12'], {})).rejects.toThrow(
      new DemoConfigError('--tabs must be a whole number from 2 to 8 (got "12")'),
    );
    await expect(readConfig(['--browser'], { OPENLOYALTY_URL: 'https://ol.example.test' })).rejects.toThrow(
      /--browser runs on the embedded OpenLoyalty server only/,
    );
  });

  it('asks for a missing secret through the prompt, and names the variable when it cannot ask', async () => {
    const asked: string[] = [];
    const config = await readConfig(
      ['--datarhei-url', 'http://127.0.0.1:1', '--datarhei-user', 'admin'],
      {},
      async (q) => {
        asked.push(q);
        return 'typed-secret';
      },
    );
    expect(config.datarhei?.password).toBe('typed-secret');
    expect(asked).toEqual(['datarhei Core password of admin: ']);
    await expect(readConfig(['--datarhei-url', 'http://127.0.0.1:1', '--datarhei-user', 'admin'], {})).rejects.toThrow(
      new DemoConfigError('datarhei Core password of admin is missing: set DATARHEI_PASSWORD'),
    );
  });

  it('draws a progress bar only on a terminal', async () => {
    let tty = '';
    await new Timeline({ write: (t) => void (tty += t), tty: true }).sleep('waiting', 250);
    expect(tty).toContain('\r');
    expect(tty).toContain('▕');
    let plain = '';
    await new Timeline({ write: (t) => void (plain += t), tty: false }).sleep('waiting', 50);
    expect(plain).not.toContain('\r');
    expect(plain.trim().split('\n')).toHaveLength(2);
  });
});

describe('a real server given by flags and environment', () => {
  it('runs what it can there, skips what needs the embedded controls, and never prints the secrets', async () => {
    const server = await createOpenLoyaltyServer({
      admins: [{ username: 'ops', password: 'Real-Pass-77c1' }],
      stores: { eu: [{ username: 'm@example.com', password: 'Member-Pass-39' }] },
    });
    try {
      const { code, stdout, stderr } = await demo(
        [
          '--openloyalty-url',
          `${server.url}/`,
          '--openloyalty-admin-user',
          'ops',
          '--openloyalty-store',
          'eu',
          '--burst',
          '5',
        ],
        {
          OPENLOYALTY_ADMIN_PASSWORD: 'Real-Pass-77c1',
          OPENLOYALTY_MEMBER_USER: 'm@example.com',
          OPENLOYALTY_MEMBER_PASSWORD: 'Member-Pass-39',
        },
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toContain(`OpenLoyalty: ${server.url} (real server)`);
      const rows = stdout.split('\n').filter((l) => /^\| \d/.test(l));
      const result = (title: string) =>
        rows
          .find((r) => r.includes(title))
          ?.split('|')[3]
          ?.trim();
      expect(result('Admin and member logins')).toBe('ok');
      expect(result('200 concurrent requests')).toBe('ok');
      expect(result('A burst of 5 forced logins')).toBe('ok');
      expect(result('The access token expires')).toBe('skipped');
      expect(result('revoked on the server')).toBe('skipped');
      expect(result('A dead refresh token')).toBe('skipped');
      expect(result('OpenLoyalty API key')).toBe('skipped');
      expect(result('password login, then refresh')).toBe('ok');
      // Two logins in step 1 and five forced ones, nothing else, against the "real" server.
      expect(server.counters.logins).toBe(7);
      expect(server.counters.rateLimited).toBe(0);
      expect(stdout + stderr).not.toContain('Real-Pass-77c1');
      expect(stdout + stderr).not.toContain('Member-Pass-39');
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('misconfiguration, as a user runs it', () => {
  it('a bad URL: one line, exit code 2, no stack trace', async () => {
    const { code, stderr, stdout } = await demo(
      ['--openloyalty-url', 'not a url', '--openloyalty-admin-user', 'admin'],
      { OPENLOYALTY_ADMIN_PASSWORD: 'pw' },
    );
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('demo: --openloyalty-url must be an absolute http(s) URL');
    expect(stdout).toBe('');
  }, 30_000);

  it('a missing secret without a terminal: names the variable', async () => {
    const { code, stderr } = await demo(
      ['--openloyalty-url', 'http://127.0.0.1:9', '--openloyalty-admin-user', 'admin'],
      { OPENLOYALTY_ADMIN_PASSWORD: '' },
    );
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('demo: OpenLoyalty password of admin is missing: set OPENLOYALTY_ADMIN_PASSWORD');
  }, 30_000);

  it('an unreachable server: one line, exit code 2, no stack trace, never the password', async () => {
    // A port that was just listening and is now closed: connections are refused.
    const gone = await createOpenLoyaltyServer();
    const url = gone.url;
    await gone.close();
    const secret = 'unreachable-Secret-91d2';
    const { code, stderr, stdout } = await demo(['--openloyalty-url', url, '--openloyalty-admin-user', 'admin'], {
      OPENLOYALTY_ADMIN_PASSWORD: secret,
    });
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^demo: OpenLoyalty could not be reached .*check the URL$/);
    expect(stderr + stdout).not.toContain(secret);
  }, 30_000);

  it('a URL that is not OpenLoyalty (an HTML 404 page): one line that points at the URL, not the password', async () => {
    const other = await listen((req, res) => {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
    });
    try {
      const { code, stderr } = await demo(['--openloyalty-url', other.url, '--openloyalty-admin-user', 'admin'], {
        OPENLOYALTY_ADMIN_PASSWORD: 'pw-not-shown-6a',
      });
      expect(code).toBe(2);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        "demo: OpenLoyalty answered 404 at its login endpoint: is OPENLOYALTY_URL (--openloyalty-url) the API's base URL?",
      );
      expect(stderr).not.toContain('pw-not-shown-6a');
    } finally {
      await other.close();
    }
  }, 30_000);

  it('a wrong password on a real server: one line naming the variables, never the password', async () => {
    const server = await createOpenLoyaltyServer();
    try {
      const secret = 'wrong-Secret-4f1c9a';
      const { code, stderr, stdout } = await demo(
        ['--openloyalty-url', server.url, '--openloyalty-admin-user', 'admin'],
        { OPENLOYALTY_ADMIN_PASSWORD: secret },
      );
      expect(code).toBe(2);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^demo: OpenLoyalty refused the login \(CREDENTIALS_REJECTED, HTTP 401\); check OPENLOYALTY_URL, OPENLOYALTY_ADMIN_USER and OPENLOYALTY_ADMIN_PASSWORD$/,
      );
      expect(stderr + stdout).not.toContain(secret);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(server.counters.loginsRejected).toBe(1);
    } finally {
      await server.close();
    }
  }, 30_000);
});
