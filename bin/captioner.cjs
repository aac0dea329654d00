#!/usr/bin/env node
// The `captioner` command: runs the built CLI (npm run build), or the
// TypeScript sources through tsx in a development checkout that is not built.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'out', 'main', 'cli.js');
process.env.CAPTIONER_CLI = '1';
if (existsSync(built)) {
  require(built);
} else {
  try {
    require('tsx/cjs');
  } catch {
    process.stderr.write('captioner: the CLI is not built. Run: npm run build\n');
    process.exit(1);
  }
  require(join(__dirname, '..', 'src', 'main', 'cli', 'index.ts'));
}
