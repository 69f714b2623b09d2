import { DemoConfigError, promptHidden, readConfig, usage, type DemoConfig } from './config.js';
import { Timeline } from './timeline.js';
import { runTour, summaryTable } from './tour.js';

// `pnpm demo [-- options]`: the scripted tour on embedded servers (default) or real ones;
// `pnpm demo --browser`: a page of several tabs of one browser app, served until Ctrl-C.
// Exit codes: 0 every step went as expected; 1 a step did not; 2 a misconfiguration (one line, no stack).

// The member strategy reports upstream's deprecation of member tokens once; the timeline says it instead.
process.noDeprecation = true;

function fail(message: string, code: number): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(code);
}

/** Serves the browser part until SIGINT or SIGTERM, then exits 0. */
async function serveBrowserDemo(opts: NonNullable<DemoConfig['browser']>): Promise<never> {
  // Loaded only here: it needs esbuild (to bundle the app) and the built packages.
  const { startBrowserDemo, BROWSER_MEMBER } = await import('./browser/server.js');
  const demo = await startBrowserDemo(opts);
  console.log('auth-strategies demo: one refresh across browser tabs');
  console.log(
    `  ${opts.tabs} tabs of one OpenLoyalty member app, access tokens of ${opts.accessTokenTtlSec} s, rotating refresh tokens`,
  );
  console.log(`  member account: ${BROWSER_MEMBER.username} (its demo password is in apps/demo/README.md)`);
  console.log(`  open ${demo.url}`);
  console.log('  Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await demo.close();
  console.log('stopped');
  process.exit(0);
}

try {
  const config = await readConfig(process.argv.slice(2), process.env, process.stdin.isTTY ? promptHidden : undefined);
  if (config.help) {
    console.log(usage());
    process.exit(0);
  }
  if (config.browser) await serveBrowserDemo(config.browser);
  const timeline = new Timeline();
  timeline.line('auth-strategies demo: one tour through every package');
  const summary = await runTour(config, timeline);
  timeline.raw(`\n${summaryTable(summary)}\n\n`);
  const failed = summary.steps.filter((s) => s.status === 'failed');
  if (failed.length)
    fail(
      `${failed.length} step(s) did not go as expected: ${failed.map((s) => `${s.title} (${s.note})`).join('; ')}`,
      1,
    );
  timeline.line(`done in ${(timeline.elapsedMs / 1000).toFixed(1)} s: every step went as expected`);
  process.exit(0);
} catch (error) {
  if (error instanceof DemoConfigError) fail(error.message, 2);
  // Anything else is a bug in the demo or a package: still one line, with the error's name and code only.
  const e = error as { name?: string; code?: string; message?: string };
  fail(
    `unexpected ${e?.name ?? 'error'}${e?.code ? ` (${e.code})` : ''}: ${String(e?.message ?? error).split('\n')[0]}`,
    1,
  );
}
