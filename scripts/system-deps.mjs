// The test suite uses two system programs: redis-server and redis-cli (the Redis token store's fleet tests, also on
// Cluster and Sentinel) and
// Chromium (the fetch adapter's browser test). On a Debian machine where we are root, install the
// missing ones from Debian's packages; elsewhere say exactly what to install and stop.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = [];
if (!has('redis-server')) missing.push('redis-server');
// redis-cli creates the test Redis Cluster and talks to the sentinels (Debian: redis-tools, a dependency of
// redis-server).
if (!has('redis-cli') && !missing.includes('redis-server')) missing.push('redis-tools');
if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get')) {
  console.error(
    `The tests need: ${missing.join(', ')}. Install them (on Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}) and run again.`,
  );
  process.exit(1);
}
console.log(`system-deps: installing ${missing.join(', ')} from Debian's packages…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env,
});
