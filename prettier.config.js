// The style the code is written in; what is not set here is Prettier 3's default (2 spaces, semicolons,
// trailing commas everywhere, parentheses around every arrow parameter).
/** @type {import('prettier').Config} */
export default {
  printWidth: 120,
  singleQuote: true,
  trailingComma: 'all',
  overrides: [
    // pnpm-workspace.yaml quotes its scoped names the way pnpm writes them.
    { files: ['*.yaml', '*.yml'], options: { singleQuote: false } },
  ],
};
