// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const svelte = require('eslint-plugin-svelte');
const globals = require('globals');

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
  {
    // Core code runs under plain Node (CLI, engine, tests): only the Electron
    // entry and its wiring may import electron.
    files: ['src/**/*.ts', 'src/**/*.svelte'],
    ignores: ['src/main/index.ts', 'src/main/electron/app.ts', 'src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Core code must not import electron.', allowTypeImports: true }] }],
    },
  },
);
