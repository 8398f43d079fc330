/**
 * Fixture-driven parser tests: each valid runbook beside the JSON of what it parses to, each
 * malformed runbook beside the exact `line:col: message` lines it must produce.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunbook } from '../../server/runbook/parse.js';

const root = join(import.meta.dirname, '../fixtures/runbooks');
const fixtures = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.md'))
    .sort();

describe('valid runbooks parse to the expected plain data', () => {
  it.each(fixtures('valid'))('%s', (name) => {
    const file = join(root, 'valid', name);
    const { runbook, problems } = parseRunbook(readFileSync(file, 'utf8'), file);
    expect(problems).toEqual([]);
    const expected = JSON.parse(readFileSync(file.replace(/\.md$/, '.json'), 'utf8'));
    expect(runbook).toEqual({ file, ...expected });
  });
});

describe('malformed runbooks report each error at its position', () => {
  const names = fixtures('invalid');

  it('has at least 30 malformed fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  it.each(names)('%s', (name) => {
    const file = join(root, 'invalid', name);
    const { problems } = parseRunbook(readFileSync(file, 'utf8'), file);
    const expected = readFileSync(file.replace(/\.md$/, '.errors'), 'utf8').split('\n').filter(Boolean);
    expect(expected.length).toBeGreaterThan(0);
    expect(problems.map((p) => `${p.line}:${p.column}: ${p.message}`)).toEqual(expected);
    expect(problems.every((p) => p.file === file)).toBe(true);
  });
});
