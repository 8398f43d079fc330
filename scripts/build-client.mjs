// Bundles the browser notebook (client/main.ts) into client/dist/app.js with esbuild, after
// type-checking it with client/tsconfig.json (esbuild strips types without checking them).
// `--no-check` skips the type check, for a quick rebuild while editing.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('../client/main.ts', import.meta.url));
if (existsSync(entry)) {
  if (!process.argv.includes('--no-check')) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const checked = spawnSync(process.execPath, [tsc, '-p', 'client/tsconfig.json'], { cwd: root, stdio: 'inherit' });
    if (checked.status !== 0) {
      process.stderr.write('build-client: the browser client has type errors (above)\n');
      process.exit(1);
    }
  }
  const { build } = await import('esbuild');
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    outfile: fileURLToPath(new URL('../client/dist/app.js', import.meta.url)),
    logLevel: 'warning',
  });
}
