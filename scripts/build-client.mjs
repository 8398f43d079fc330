// Bundles the browser notebook (client/) into client/dist/ with esbuild. Without a client entry yet, nothing to do.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../client/main.ts', import.meta.url));
if (existsSync(entry)) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outfile: fileURLToPath(new URL('../client/dist/app.js', import.meta.url)),
    logLevel: 'warning',
  });
}
