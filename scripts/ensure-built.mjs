// Before `npm start`: build what is missing (server or client), so a fresh checkout whose install
// skipped the `prepare` script still starts. A full rebuild is `npm run build`.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });

if (!existsSync(`${root}dist/server/cli/main.js`)) {
  console.error('runbooks: building the server (first start)…');
  run([`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json']);
}
if (!existsSync(`${root}client/dist/app.js`)) {
  console.error('runbooks: building the notebook (first start)…');
  run([`${root}scripts/build-client.mjs`, '--no-check']);
}
