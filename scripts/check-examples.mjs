// Type-checks the documentation's examples, as openid-client's check-examples.sh does: every ```ts
// block of a README and every TSDoc `@example` in packages/*/src is compiled against the sources.
//
// README blocks are complete programs and compile as they are. TSDoc examples are fragments: each
// gets the public exports of its own package and of @auth/core imported (unless it imports them
// itself), and names it uses but never defines (`strategy`, `ctx`, `response`…) are declared `any`.
// So a renamed export, a wrong import, an option or method that does not exist, or a wrong argument
// count fails the check, while the fragment need not spell out its surroundings.
//
//   node scripts/check-examples.mjs            exits 1 and lists every failing example
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = resolve(new URL('..', import.meta.url).pathname);
const require = createRequire(join(root, 'packages/core/package.json'));
const ts = require('typescript');

/** @type {{ file: string; origin: string }[]} */
const examples = [];
const packages = readdirSync(join(root, 'packages')).filter((p) =>
  existsSync(join(root, 'packages', p, 'src/index.ts')),
);

// ---- README blocks: whole programs ----
const readmes = [
  'README.md',
  ...packages.map((p) => `packages/${p}/README.md`),
  ...readdirSync(join(root, 'apps')).map((a) => `apps/${a}/README.md`),
];
for (const readme of readmes) {
  const path = join(root, readme);
  if (!existsSync(path)) continue;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end += 1;
    const pkg = readme.startsWith('packages/') ? readme.split('/')[1] : 'axios-adapter';
    const file = join(
      root,
      'packages',
      pkg,
      'node_modules/.cache/examples',
      `${readme.replace(/[/.]/g, '_')}_${start}.ts`,
    );
    examples.push({ file, origin: `${readme}:${start}`, code: lines.slice(start, end).join('\n'), pkg, readme: true });
    i = end;
  }
}

// ---- TSDoc @example blocks: fragments ----
for (const pkg of packages)
  rmSync(join(root, 'packages', pkg, 'node_modules/.cache/examples'), { recursive: true, force: true });
const exportsOf = new Map(packages.map((p) => [p, publicNames(join(root, 'packages', p, 'src/index.ts'))]));
for (const pkg of packages) {
  for (const src of walk(join(root, 'packages', pkg, 'src'))) {
    const text = readFileSync(src, 'utf8');
    for (const m of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
      const comment = m[1].split('\n').map((l) => l.replace(/^\s*\* ?/, ''));
      const at = comment.findIndex((l) => l.startsWith('@example'));
      if (at < 0) continue;
      const body = [];
      for (const l of comment.slice(at + 1)) {
        if (/^@\w+/.test(l)) break;
        body.push(l);
      }
      const code = body.join('\n').replace(/^```\w*\n?|```\s*$/gm, '');
      const line = text.slice(0, m.index).split('\n').length;
      // Under the package's node_modules, so that its own dependencies (axios, ioredis) resolve.
      const file = join(
        root,
        'packages',
        pkg,
        'node_modules/.cache/examples',
        `${relative(join(root, 'packages', pkg, 'src'), src).replace(/[/.]/g, '_')}_${line}.ts`,
      );
      examples.push({ file, origin: `${relative(root, src)}:${line}`, code, pkg });
    }
  }
}

for (const e of examples) write(e.file, fragment(e.code, e.pkg, []));

const options = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  esModuleInterop: true,
  allowImportingTsExtensions: false,
  types: ['node'],
  typeRoots: [join(root, 'node_modules/@types'), join(root, 'packages/core/node_modules/@types')],
  baseUrl: root,
  // As in tsconfig.base.json: the one subpath export before the catch-all.
  paths: { '@auth/testing/browser': ['./packages/testing/src/browser.ts'], '@auth/*': ['./packages/*/src/index.ts'] },
  // Fragments are statements, not modules with a meaning of their own: unused names are fine.
  noUnusedLocals: false,
  allowUnreachableCode: true,
};

// First pass: find the names each fragment uses without defining them, declare them, compile again.
let program;
let diagnostics = compile();
const undefinedNames = new Map();
for (const d of diagnostics) {
  if (!d.file || (d.code !== 2304 && d.code !== 2552 && d.code !== 18004)) continue;
  const name = /'([^']+)'/.exec(ts.flattenDiagnosticMessageText(d.messageText, '\n'))?.[1];
  if (!name) continue;
  const list = undefinedNames.get(resolve(d.file.fileName)) ?? new Set();
  list.add(name);
  undefinedNames.set(resolve(d.file.fileName), list);
}
for (const e of examples) {
  const names = undefinedNames.get(resolve(e.file));
  if (names) write(e.file, fragment(e.code, e.pkg, [...names]));
}
diagnostics = compile();

const isExample = (d) => d.file !== undefined && d.file.fileName.includes('/node_modules/.cache/examples/');
// A name declared `any` cannot take type arguments (`http<Body>(…)` with `http` from the context).
const failures = diagnostics.filter((d) => isExample(d) && d.code !== 2347);
for (const d of failures) {
  const example = examples.find((e) => resolve(e.file) === resolve(d.file.fileName));
  const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
  console.error(
    `${example?.origin ?? d.file.fileName} (example line ${line + 1}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
  );
}
const other = diagnostics.filter((d) => !isExample(d));
for (const d of other.slice(0, 20))
  console.error(
    `(outside the examples) ${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
  );
const readmeCount = examples.filter((e) => e.readme).length;
console.log(
  `check-examples: ${examples.length} examples (${readmeCount} README blocks, ${examples.length - readmeCount} TSDoc @example), ${failures.length} errors`,
);
if (failures.length > 0 || other.length > 0) process.exit(1);

// ---- helpers ----
function compile() {
  // The second pass reuses the first one's unchanged files (every source of every package).
  program = ts.createProgram(
    examples.map((e) => e.file),
    options,
    undefined,
    program,
  );
  return ts.getPreEmitDiagnostics(program);
}

function fragment(code, pkg, free) {
  const own = new Set();
  for (const m of code.matchAll(/import\s+(?:type\s+)?(?:(\w+)\s*,?\s*)?(?:\{([^}]*)\}|\*\s+as\s+(\w+))?\s*from/g)) {
    if (m[1]) own.add(m[1]);
    if (m[3]) own.add(m[3]);
    for (const part of (m[2] ?? '').split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop();
      if (name) own.add(name);
    }
  }
  const declared = new Set(own);
  const imports = [];
  for (const from of pkg === 'core' ? ['core'] : [pkg, 'core']) {
    const names = [...(exportsOf.get(from) ?? [])].filter(
      (n) => !declared.has(n) && new RegExp(`\\b${n}\\b`).test(code),
    );
    names.forEach((n) => declared.add(n));
    if (names.length) imports.push(`import { ${names.join(', ')} } from '@auth/${from}';`);
  }
  // A free name may be used as a value or as a type: declare it as both.
  const declarations = free.filter((n) => !declared.has(n)).map((n) => `declare const ${n}: any; type ${n} = any;`);
  // The fragment's own imports stay at the top; its statements run in an async function, so that
  // `await` and `return` read as they would in the caller's code.
  // A whole module (it exports something) compiles as it is.
  if (/^export\s/m.test(code)) return `${imports.join('\n')}\n${declarations.join('\n')}\n${code}\nexport {};\n`;
  const lines = code.split('\n');
  const importEnd = lastImportLine(lines);
  const head = lines.slice(0, importEnd).join('\n');
  const bodyLines = lines.slice(importEnd).join('\n');
  return `${imports.join('\n')}\n${declarations.join('\n')}\n${head}\nexport async function example(): Promise<any> {\n${bodyLines}\n}\n`;
}

function lastImportLine(lines) {
  let end = 0;
  let open = false;
  for (let i = 0; i < lines.length; i += 1) {
    const l = lines[i];
    if (open) {
      if (/from\s+['"][^'"]+['"];?\s*$/.test(l)) {
        open = false;
        end = i + 1;
      }
      continue;
    }
    if (/^import\s/.test(l)) {
      if (/from\s+['"][^'"]+['"];?\s*$/.test(l) || /^import\s+['"]/.test(l)) end = i + 1;
      else open = true;
    } else if (l.trim() !== '' && !l.trim().startsWith('//')) break;
  }
  return end;
}

function publicNames(index) {
  const names = new Set();
  const text = readFileSync(index, 'utf8');
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1].split(',')) {
      const name = part
        .trim()
        .split(/\s+as\s+/)
        .pop();
      if (name) names.add(name);
    }
  }
  for (const m of text.matchAll(
    /export\s+(?:declare\s+)?(?:async\s+)?(?:function|const|class|interface|type)\s+(\w+)/g,
  ))
    names.add(m[1]);
  for (const m of text.matchAll(/export\s+\*\s+from\s+['"](\.[^'"]+)['"]/g)) {
    const target = resolve(index, '..', m[1].replace(/\.js$/, '.ts'));
    for (const n of publicNames(existsSync(target) ? target : target.replace(/\.ts$/, '/index.ts'))) names.add(n);
  }
  return names;
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

function write(file, text) {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}
