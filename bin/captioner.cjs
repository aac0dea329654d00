#!/usr/bin/env node
// The `captioner` command: runs the built CLI (npm run build), or the
// TypeScript sources through tsx in a development checkout that is not built.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

// Say plainly when Node is too old, before anything fails deep inside a
// dependency. The minimum is package.json's "engines" (the CLI and serve mode
// run on Node 20; only the desktop window's Electron download needs Node 22).
const minimum = /(\d+)\.(\d+)/.exec(require('../package.json').engines.node).slice(1).map(Number);
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < minimum[0] || (major === minimum[0] && minor < minimum[1])) {
  process.stderr.write(`captioner: needs Node ${minimum.join('.')} or newer; this is Node ${process.versions.node}. Install a current Node.js LTS (https://nodejs.org/).\n`);
  process.exit(1);
}

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
