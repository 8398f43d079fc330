/** docs/format.md documents exactly what the parser accepts: its tables are compared with the code. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepAttributes } from '../../server/runbook/attributes.js';
import { accessKeys, approvalPolicies, frontMatterKeys, paramKeys, paramTypes } from '../../server/runbook/front-matter.js';
import { helperNames } from '../../server/runbook/template-helpers.js';
import { operationNames, operations } from '../../server/runbook/operations.js';
import { coerceParams } from '../../server/runbook/params.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { renderStep } from '../../server/runbook/render.js';

const doc = readFileSync(join(import.meta.dirname, '../../docs/format.md'), 'utf8');

/** The rows of the first table under a `### heading`, as arrays of cells. */
function table(heading: string): string[][] {
  const start = doc.indexOf(`\n### ${heading}\n`);
  expect(start, `docs/format.md has no "### ${heading}" section`).toBeGreaterThan(-1);
  const lines = doc.slice(start).split('\n').slice(2);
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

/** The names in the first column: `name` in backticks. */
const names = (heading: string) => table(heading).map(([cell]) => /^`([^`]+)`$/.exec(cell)?.[1] ?? cell);

describe('docs/format.md', () => {
  it.each([
    ['Front-matter keys', frontMatterKeys],
    ['Access keys', accessKeys],
    ['Parameter keys', paramKeys],
    ['Parameter types', paramTypes],
    ['Step attributes', stepAttributes],
    ['Helpers', helperNames],
    ['Operations', operationNames],
  ] as Array<[string, readonly string[]]>)('lists every entry of "%s"', (heading, expected) => {
    expect(names(heading)).toEqual([...expected]);
  });

  it('gives each operation its kind and exactly its fields, required ones in bold', () => {
    for (const [cell, kind, fields] of table('Operations')) {
      const op = operations[cell.replace(/`/g, '') as keyof typeof operations];
      expect(kind).toBe(op.write ? 'write' : 'read');
      const documented = fields.split(', ').map((f) => [f.replace(/\*\*/g, ''), f.startsWith('**')]);
      expect(documented).toEqual(Object.entries(op.fields).map(([name, fact]) => [name, fact.required === true]));
    }
  });

  it('names every approval policy', () => {
    const approval = table('Access keys').find(([key]) => key === '`approval`')!;
    for (const policy of approvalPolicies) expect(approval[1]).toContain(`\`${policy}\``);
  });

  it('shows a complete example that is valid and renders as documented', () => {
    const example = /````markdown\n([\s\S]*?)\n````/.exec(doc)![1];
    const { runbook, problems } = parseRunbook(example, 'example.md');
    expect(problems).toEqual([]);
    const { values } = coerceParams(runbook!.params, { customerId: 'C1001' });
    const now = new Date('2026-11-27T12:00:00Z');
    const query = renderStep(runbook!.steps[0], values, now);
    const documented = JSON.parse(/With `customerId=C1001`[^\n]*\n\n```json\n([\s\S]*?)```/.exec(doc)![1]);
    expect(query.input).toEqual(documented);
    expect(renderStep(runbook!.steps[1], values, now).input).toEqual({
      Statement: 'SELECT orderId, "status", total FROM "Orders" WHERE pk = ?',
      Parameters: ['CUSTOMER#C1001'],
    });
  });
});
