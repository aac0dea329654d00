// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const svelte = require('eslint-plugin-svelte');
const globals = require('globals');

const electronRule = { name: 'electron', message: 'Only src/main/electron and src/main/index.ts may import electron.', allowTypeImports: true };
const tfjsOutsideMl = { group: ['@tensorflow/*'], message: 'TensorFlow.js is loaded only in the engine process: keep tfjs code in src/main/ml.' };
const apiFromDomain = { group: ['**/api', '**/api/*'], message: 'Domain code does not import the API layer; pass what it needs explicitly.' };
const libStaysPlain = { group: ['**/ml/*', '**/engine/*', '**/store/*', '**/api/*', '**/electron/*'], message: 'src/main/lib is plain Node: it imports only other lib code, shared/ and node modules.' };
const engineFromMl = { group: ['**/engine/supervisor', '**/engine/channel', '**/engine/forkChannel', '**/electron/*'], message: 'ML code runs inside the engine; it does not reach for the supervisor or the channel.' };

module.exports = tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.native/**', '.cache/**', 'test-output/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser }, globals: { ...globals.browser } },
  },
  {
    files: ['src/renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  // Which runtime a file may use is told by its folder (docs/architecture.md):
  //   src/main/lib/      plain Node: no TensorFlow.js, no engine, store or API
  //   src/main/ml/       TensorFlow.js, loaded only inside the engine process
  //   src/main/engine/   the process boundary (supervisor, protocol, handlers)
  //   src/main/electron/ and src/main/index.ts: the only places electron is imported
  // Domain code never imports the API layer (src/main/api).
  {
    files: ['src/**/*.ts', 'src/**/*.svelte'],
    ignores: ['src/main/index.ts', 'src/main/electron/**', 'src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronRule], patterns: [tfjsOutsideMl] }],
    },
  },
  {
    files: ['src/main/ml/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [electronRule], patterns: [apiFromDomain, engineFromMl] }] },
  },
  {
    files: ['src/main/lib/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [electronRule], patterns: [tfjsOutsideMl, apiFromDomain, libStaysPlain] }] },
  },
  {
    files: ['src/main/{store,core,datasets,training,inference,evaluation,batch,tuning,tasks,models,workers,compare,playground}/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [electronRule], patterns: [tfjsOutsideMl, apiFromDomain] }] },
  },
);
