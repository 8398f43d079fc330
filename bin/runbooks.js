#!/usr/bin/env node
// The command runs the compiled JavaScript in dist/ (built by `npm install` through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The project targets Node 20 (engines); the AWS SDK's notice about its own future Node support
// is not something a user of this command can act on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const main = new URL('../dist/server/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('runbooks: the compiled program is missing; run `npm install` (or `npm run build`) in the project folder.\n');
  process.exit(2);
}
await import(main.href);
