// The error catalogue (server/errors.ts) and its documentation (docs/errors.md) agree: every code is
// defined once, documented with its status, and the page names no code that does not exist.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue, RbError } from '../../server/errors.js';

const source = readFileSync(new URL('../../server/errors.ts', import.meta.url), 'utf8');
const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const codes = Object.keys(errorCatalogue) as Array<keyof typeof errorCatalogue>;

/** Rows of the docs' tables: `| \`CODE\` | status | meaning | what to do |`. */
function documentedRows(): Map<string, { status: number; meaning: string; todo: string }[]> {
  const rows = new Map<string, { status: number; meaning: string; todo: string }[]>();
  for (const line of docs.split('\n')) {
    const m = /^\| `(RB_ERR_[A-Z0-9_]+)` \| (\d{3}) \| (.*) \| (.*) \|$/.exec(line);
    if (m) rows.set(m[1], [...(rows.get(m[1]) ?? []), { status: Number(m[2]), meaning: m[3].trim(), todo: m[4].trim() }]);
  }
  return rows;
}

describe('error catalogue', () => {
  it('defines each code exactly once, in the RB_ERR_<AREA>_<CONDITION> form', () => {
    for (const code of codes) {
      expect(code).toMatch(/^RB_ERR_[A-Z]+(?:_[A-Z0-9]+)*$/);
      const definitions = source.match(new RegExp(`^\\s*${code}:`, 'gm')) ?? [];
      expect(definitions, code).toHaveLength(1);
    }
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('gives every code an HTTP error status and a message that ends a sentence', () => {
    for (const code of codes) {
      const fact = errorCatalogue[code];
      expect(fact.status, code).toBeGreaterThanOrEqual(400);
      expect(fact.status, code).toBeLessThan(600);
      expect(fact.message, code).toMatch(/[.)]$/);
      const err = new RbError(code);
      expect(err.status).toBe(fact.status);
      expect(err.message).toBe(fact.message);
    }
  });

  it('documents every code once, with its status, meaning and what to do', () => {
    const rows = documentedRows();
    const missing = codes.filter((c) => !rows.has(c));
    expect(missing, `codes missing from docs/errors.md: ${missing.join(', ')}`).toEqual([]);
    for (const code of codes) {
      const entries = rows.get(code)!;
      expect(entries, `${code} is documented more than once`).toHaveLength(1);
      expect(entries[0].status, `${code}: docs/errors.md says ${entries[0].status}, the catalogue ${errorCatalogue[code].status}`).toBe(errorCatalogue[code].status);
      expect(entries[0].meaning.length, code).toBeGreaterThan(10);
      expect(entries[0].todo.length, code).toBeGreaterThan(5);
    }
  });

  it('names no code in docs/errors.md that the catalogue does not have', () => {
    const named = new Set(docs.match(/RB_ERR_[A-Z0-9_]+/g) ?? []);
    const unknown = [...named].filter((c) => !(c in errorCatalogue));
    expect(unknown, `docs/errors.md names unknown codes: ${unknown.join(', ')}`).toEqual([]);
  });
});
