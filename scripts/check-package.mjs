// Checks a built package as users receive it: publint (strict) and @arethetypeswrong/cli on the
// packed tarball. Findings listed in ACCEPTED (by rule name) are allowed; anything else fails.
import { execFileSync } from 'node:child_process';

const ACCEPTED_ATTW_RULES = [];

function run(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: 'inherit' });
  } catch {
    console.error(`check-package: ${cmd} ${args.join(' ')} failed in ${process.cwd()}`);
    process.exit(1);
  }
}

run('publint', ['--strict']);
run('attw', ['--pack', '.', '--format', 'table-flipped', ...(ACCEPTED_ATTW_RULES.length ? ['--ignore-rules', ...ACCEPTED_ATTW_RULES] : [])]);
