/**
 * The server's folders import downward only (docs/architecture.md, "Folders and what they may
 * import"): each folder of ORDER may import the folders before it, never one after it; the sandbox
 * stands in for AWS and imports nothing of the tool but aws, and only http (its health) and cli
 * (which starts it) import it; errors.ts, identity.ts and is-record.ts at the root are for all.
 * Every import counts: static, `export … from`, `import type` and `await import(…)`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SERVER = fileURLToPath(new URL('../server/', import.meta.url));
const ORDER = ['aws', 'runbook', 'dynamo', 'access', 'runs', 'notify', 'http', 'cli'];
const SANDBOX = 'sandbox';
const SANDBOX_IMPORTS = ['aws'];
const SANDBOX_IMPORTED_BY = ['http', 'cli'];
const ROOT = '.';

/** What a module of `folder` may import besides its own folder and the root's modules. */
function allowed(folder: string): string[] {
  if (folder === ROOT) return [];
  if (folder === SANDBOX) return SANDBOX_IMPORTS;
  const at = ORDER.indexOf(folder);
  return [...ORDER.slice(0, at), ...(SANDBOX_IMPORTED_BY.includes(folder) ? [SANDBOX] : [])];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The server folder a file is in (`.` for the root's modules). */
function folderOf(file: string): string {
  const parts = relative(SERVER, file).split(sep);
  return parts.length > 1 ? parts[0] : ROOT;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'";]*?\bfrom\s*'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)|^\s*import\s+'([^']+)'/gm;

/** The server modules `file` imports, as paths from server/. */
function importsOf(file: string): string[] {
  const found: string[] = [];
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    found.push(relative(SERVER, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return found;
}

/** Every import that breaks the rule: `from → to`. */
function violations(): string[] {
  const bad: string[] = [];
  for (const file of filesUnder(SERVER)) {
    const from = folderOf(file);
    for (const target of importsOf(file)) {
      const to = folderOf(join(SERVER, target));
      if (to === from || to === ROOT) continue;
      if (!allowed(from).includes(to)) bad.push(`${relative(SERVER, file)} → ${target}`);
    }
  }
  return [...new Set(bad)];
}

describe('the layers of the server', () => {
  it('has every folder in the order', () => {
    const folders = readdirSync(SERVER).filter((name) => statSync(join(SERVER, name)).isDirectory());
    expect(folders.filter((f) => f !== SANDBOX && !ORDER.includes(f))).toEqual([]);
  });

  it('imports downward only', () => {
    expect(violations()).toEqual([]);
  });

  it('reads every kind of import', () => {
    // a multi-line import, an `import type`, an `await import(…)`, an `export … from`
    expect(importsOf(join(SERVER, 'http/routes/runs.ts'))).toContain('http/schemas.ts');
    expect(importsOf(join(SERVER, 'runs/executions.ts'))).toContain('aws/credentials.ts');
    expect(importsOf(join(SERVER, 'runs/engine.ts'))).toContain('aws/sdk.ts');
    expect(importsOf(join(SERVER, 'access/broker.ts'))).toEqual(expect.arrayContaining(['aws/credentials.ts', 'aws/sdk.ts']));
    expect(importsOf(join(SERVER, 'access/key-schemas.ts'))).toContain('dynamo/describe.ts');
    expect(allowed('dynamo')).not.toContain('access');
    expect(allowed(SANDBOX)).toEqual(['aws']);
  });
});
