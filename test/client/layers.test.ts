/**
 * The notebook's model and actions, and the client's other DOM-free modules, are tested here without
 * a browser: nothing they import, directly or through another module, may be a view or the DOM helpers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLIENT = fileURLToPath(new URL('../../client/', import.meta.url));
const DOM_FREE = [
  ...readdirSync(join(CLIENT, 'notebook')).map((f) => `notebook/${f}`),
  'approvals.ts',
  'shown-error.ts',
  'item-order.ts',
  'item-prefetch.ts',
  'item-source.ts',
  'format.ts',
  'param-check.ts',
  'router.ts',
];
const RENDERING = [/^client\/views\//, /^client\/dom\.ts$/, /^client\/prose\.ts$/, /^client\/main\.ts$/];

/** Every module `file` imports, directly or not, as paths from the repository's root. */
function importsOf(file: string, seen = new Set<string>()): Set<string> {
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'";]*?from '(\.[^']+)'/gm)) {
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    const name = relative(join(CLIENT, '..'), target);
    if (seen.has(name)) continue;
    seen.add(name);
    if (name.startsWith('client/')) importsOf(target, seen);
  }
  return seen;
}

describe('the layers of the client', () => {
  it.each(DOM_FREE)('client/%s reaches no view and no DOM helper', (file) => {
    const imports = [...importsOf(join(CLIENT, file))];
    expect(imports.filter((name) => RENDERING.some((r) => r.test(name)))).toEqual([]);
  });

  it('follows imports through other modules', () => {
    expect(importsOf(join(CLIENT, 'notebook/step-actions.ts'))).toContain('client/approvals.ts');
    expect(importsOf(join(CLIENT, 'notebook/step-actions.ts'))).toContain('client/shown-error.ts');
    expect([...importsOf(join(CLIENT, 'views/cell.ts'))].some((name) => RENDERING[1].test(name))).toBe(true);
  });
});
