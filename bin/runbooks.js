#!/usr/bin/env node
// The command runs the compiled JavaScript in dist/ (built by `npm install` through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/server/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('runbooks: the compiled program is missing; run `npm install` (or `npm run build`) in the project folder.\n');
  process.exit(2);
}
await import(main.href);
