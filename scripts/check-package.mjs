// Checks a built package as users receive it: publint (strict) and @arethetypeswrong/cli on the
// packed tarball. Findings listed in ACCEPTED (by rule name) are allowed; anything else fails.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

const ACCEPTED_ATTW_RULES = [];

function run(cmd, args) {
  try {
    execFileSync(bin(cmd), args, { stdio: 'inherit' });
  } catch {
    console.error(`check-package: ${cmd} ${args.join(' ')} failed in ${process.cwd()}`);
    process.exit(1);
  }
}

run('publint', ['--strict', '--pack', 'npm']);
run('attw', [
  '--pack',
  '.',
  '--format',
  'table-flipped',
  ...(ACCEPTED_ATTW_RULES.length ? ['--ignore-rules', ...ACCEPTED_ATTW_RULES] : []),
]);
