/**
 * Where the tour runs: embedded reference servers (default) or real ones named by flags or
 * environment variables. Secrets come from the environment or are prompted for without echo; they
 * are never printed.
 */
export interface OpenLoyaltyTarget {
  url: string;
  adminUser: string;
  adminPassword: string;
  storeCode: string;
  /** Member credentials; the member part is skipped when absent on a real server. */
  memberUser?: string;
  memberPassword?: string;
  /** An API key; the API-key part is skipped when absent on a real server. */
  apiKey?: string;
}

export interface DatarheiTarget {
  url: string;
  user: string;
  password: string;
  /** Auth0 client credentials for this Core; the Auth0 part is skipped when absent on a real server. */
  auth0?: { issuer: string; clientId: string; clientSecret: string; audience?: string };
}

export interface DemoConfig {
  /** Real OpenLoyalty, or undefined for the embedded one. */
  openloyalty?: OpenLoyaltyTarget;
  /** Real datarhei Core, or undefined for the embedded one (with a local OpenID provider for Auth0). */
  datarhei?: DatarheiTarget;
  /** Forced logins in the rate-limit step. Default 25 (two windows of 20). */
  burst: number;
  help: boolean;
  /** `--browser`: instead of the tour, the browser part (a page of several tabs on the embedded server). */
  browser?: { tabs: number; accessTokenTtlSec: number };
}

/** A problem with what the user gave us: printed as one line, exit code 2. */
export class DemoConfigError extends Error {
  override readonly name = 'DemoConfigError';
}

interface Option {
  flag: string;
  env: string;
  secret?: boolean;
  help: string;
}

export const OPTIONS = {
  openloyaltyUrl: {
    flag: '--openloyalty-url',
    env: 'OPENLOYALTY_URL',
    help: 'OpenLoyalty base URL (default: an embedded reference server)',
  },
  openloyaltyAdminUser: { flag: '--openloyalty-admin-user', env: 'OPENLOYALTY_ADMIN_USER', help: 'admin login' },
  openloyaltyAdminPassword: {
    flag: '',
    env: 'OPENLOYALTY_ADMIN_PASSWORD',
    secret: true,
    help: 'admin password (env or prompt)',
  },
  openloyaltyStore: { flag: '--openloyalty-store', env: 'OPENLOYALTY_STORE', help: 'store code (default: default)' },
  openloyaltyMemberUser: {
    flag: '--openloyalty-member-user',
    env: 'OPENLOYALTY_MEMBER_USER',
    help: 'member login (optional)',
  },
  openloyaltyMemberPassword: {
    flag: '',
    env: 'OPENLOYALTY_MEMBER_PASSWORD',
    secret: true,
    help: 'member password (env or prompt)',
  },
  openloyaltyApiKey: { flag: '', env: 'OPENLOYALTY_API_KEY', secret: true, help: 'API key (optional; env only)' },
  datarheiUrl: {
    flag: '--datarhei-url',
    env: 'DATARHEI_URL',
    help: 'datarhei Core base URL (default: an embedded reference server)',
  },
  datarheiUser: { flag: '--datarhei-user', env: 'DATARHEI_USER', help: 'Core username' },
  datarheiPassword: { flag: '', env: 'DATARHEI_PASSWORD', secret: true, help: 'Core password (env or prompt)' },
  auth0Issuer: {
    flag: '--auth0-issuer',
    env: 'AUTH0_ISSUER',
    help: 'Auth0 issuer, e.g. https://tenant.eu.auth0.com/ (optional)',
  },
  auth0ClientId: { flag: '--auth0-client-id', env: 'AUTH0_CLIENT_ID', help: 'Auth0 machine client id' },
  auth0ClientSecret: {
    flag: '',
    env: 'AUTH0_CLIENT_SECRET',
    secret: true,
    help: 'Auth0 client secret (env or prompt)',
  },
  auth0Audience: { flag: '--auth0-audience', env: 'AUTH0_AUDIENCE', help: 'Auth0 API audience' },
  burst: { flag: '--burst', env: 'DEMO_BURST', help: 'forced logins in the rate-limit step (default 25)' },
  tabs: { flag: '--tabs', env: 'DEMO_TABS', help: 'with --browser: tabs (frames) of the app, 2 to 8 (default 4)' },
  accessTtl: {
    flag: '--access-ttl',
    env: 'DEMO_ACCESS_TTL',
    help: 'with --browser: access-token lifetime in seconds, 6 to 86400 (default 20)',
  },
} satisfies Record<string, Option>;

type Key = keyof typeof OPTIONS;

export function usage(): string {
  const lines = [
    'Usage: pnpm demo [-- options]',
    '',
    'Runs the tour on embedded reference servers, or on real ones:',
    '',
    `  ${'--browser'.padEnd(34)} ${''.padEnd(28)} instead: a page on 127.0.0.1 with several tabs of one browser app (embedded server)`,
  ];
  for (const o of Object.values(OPTIONS) as Option[])
    lines.push(`  ${(o.flag ? `${o.flag} <value>` : '').padEnd(34)} ${o.env.padEnd(28)} ${o.help}`);
  lines.push('', 'Secrets are read from the environment, or prompted for without echo when stdin is a terminal.');
  return lines.join('\n');
}

export type Prompt = (question: string) => Promise<string>;

/**
 * Reads flags (`--flag value` or `--flag=value`) and environment variables (flags win); prompts for
 * missing secrets with `prompt` when given. Throws {@link DemoConfigError} on anything unusable.
 */
export async function readConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  prompt?: Prompt,
): Promise<DemoConfig> {
  const given: Partial<Record<Key, string>> = {};
  const byFlag = new Map<string, Key>(
    (Object.entries(OPTIONS) as [Key, Option][]).filter(([, o]) => o.flag).map(([k, o]) => [o.flag, k]),
  );
  let help = false;
  let browser = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--browser') {
      browser = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = byFlag.get(flag);
    if (!key)
      throw new DemoConfigError(
        `unknown option ${flag.startsWith('-') ? flag : JSON.stringify(flag)} (see --help; secrets go in environment variables)`,
      );
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new DemoConfigError(`${flag} needs a value`);
    given[key] = value;
  }
  const get = (k: Key): string | undefined => given[k] ?? (env[OPTIONS[k].env] || undefined);
  const secret = async (k: Key, what: string): Promise<string> => {
    const v = env[OPTIONS[k].env];
    if (v) return v;
    if (!prompt) throw new DemoConfigError(`${what} is missing: set ${OPTIONS[k].env}`);
    const typed = await prompt(`${what}: `);
    if (!typed) throw new DemoConfigError(`${what} is missing: set ${OPTIONS[k].env}`);
    return typed;
  };
  const need = (k: Key, because: string): string => {
    const v = get(k);
    if (!v) throw new DemoConfigError(`${because} needs ${OPTIONS[k].flag} or ${OPTIONS[k].env}`);
    return v;
  };

  const burst = whole(get('burst') ?? '25', OPTIONS.burst.flag, 1, 200);

  const config: DemoConfig = { burst, help };
  if (help) return config;

  const browserOnly = (['tabs', 'accessTtl'] as const).filter((k) => given[k]);
  if (!browser && browserOnly.length) throw new DemoConfigError(`${OPTIONS[browserOnly[0]!].flag} goes with --browser`);
  if (browser) {
    const real = (['openloyaltyUrl', 'datarheiUrl'] as const).find((k) => get(k));
    if (real)
      throw new DemoConfigError(
        `--browser runs on the embedded OpenLoyalty server only (drop ${OPTIONS[real].flag} / ${OPTIONS[real].env})`,
      );
    config.browser = {
      tabs: whole(get('tabs') ?? '4', OPTIONS.tabs.flag, 2, 8),
      accessTokenTtlSec: whole(get('accessTtl') ?? '20', OPTIONS.accessTtl.flag, 6, 86_400),
    };
    return config;
  }

  const olUrl = get('openloyaltyUrl');
  if (olUrl) {
    const url = httpUrl(olUrl, OPTIONS.openloyaltyUrl.flag);
    const adminUser = need('openloyaltyAdminUser', OPTIONS.openloyaltyUrl.flag);
    const adminPassword = await secret('openloyaltyAdminPassword', `OpenLoyalty password of ${adminUser}`);
    const memberUser = get('openloyaltyMemberUser');
    const memberPassword = memberUser
      ? await secret('openloyaltyMemberPassword', `OpenLoyalty password of member ${memberUser}`)
      : undefined;
    const apiKey = env[OPTIONS.openloyaltyApiKey.env] || undefined;
    config.openloyalty = {
      url,
      adminUser,
      adminPassword,
      storeCode: get('openloyaltyStore') ?? 'default',
      ...(memberUser ? { memberUser, memberPassword } : {}),
      ...(apiKey ? { apiKey } : {}),
    };
  } else {
    for (const k of ['openloyaltyAdminUser', 'openloyaltyMemberUser', 'openloyaltyStore'] as const) {
      if (given[k])
        throw new DemoConfigError(
          `${OPTIONS[k].flag} needs ${OPTIONS.openloyaltyUrl.flag} (without it the demo uses its embedded server)`,
        );
    }
  }

  const coreUrl = get('datarheiUrl');
  const auth0Issuer = get('auth0Issuer');
  if (coreUrl) {
    const url = httpUrl(coreUrl, OPTIONS.datarheiUrl.flag);
    const user = need('datarheiUser', OPTIONS.datarheiUrl.flag);
    const password = await secret('datarheiPassword', `datarhei Core password of ${user}`);
    config.datarhei = { url, user, password };
    if (auth0Issuer) {
      const issuer = httpUrl(auth0Issuer, OPTIONS.auth0Issuer.flag, true);
      const clientId = need('auth0ClientId', OPTIONS.auth0Issuer.flag);
      const clientSecret = await secret('auth0ClientSecret', `Auth0 client secret of ${clientId}`);
      const audience = get('auth0Audience');
      config.datarhei.auth0 = { issuer, clientId, clientSecret, ...(audience ? { audience } : {}) };
    }
  } else {
    for (const k of ['datarheiUser', 'auth0Issuer', 'auth0ClientId', 'auth0Audience'] as const) {
      if (given[k])
        throw new DemoConfigError(
          `${OPTIONS[k].flag} needs ${OPTIONS.datarheiUrl.flag} (without it the demo uses its embedded Core and OpenID provider)`,
        );
    }
  }
  return config;
}

function whole(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new DemoConfigError(`${flag} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  return n;
}

function httpUrl(text: string, flag: string, keepPath = false): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DemoConfigError(`${flag} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DemoConfigError(`${flag} must be an absolute http(s) URL`);
  if (url.username || url.password)
    throw new DemoConfigError(`${flag} must not contain credentials (use the environment variables)`);
  if (keepPath) return url.href;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Reads a line from the terminal without echoing it (a raw-mode TTY), on stderr. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new DemoConfigError('cancelled'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
