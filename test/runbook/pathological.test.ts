/** Large and hostile Markdown neither hangs nor crashes the parser. */
import { describe, expect, it } from 'vitest';
import { RECENT_ORDERS } from '../../bench/generate-runbooks.js';
import { MAX_RUNBOOK_CHARS, parseRunbook } from '../../server/runbook/parse.js';

function timed<T>(fn: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = fn();
  return { result, ms: performance.now() - start };
}

const STEP = (i: number) => `## Step ${i}

Check the orders of customer C${1000 + i}: the newest come first. Escalate to **Fulfilment** when an
order is pending for more than a day, and to **Payments** when a payment failed twice.

\`\`\`dynamodb {"name": "orders-${i}"}
${RECENT_ORDERS}
Limit: 25
\`\`\`
`;
const FRONT = '---\nparams:\n  customerId: { type: string }\n  days: { type: integer, default: 7 }\n---\n# Big runbook\n\n';

describe('large runbooks', () => {
  it('parses a 1 MB runbook', () => {
    let text = FRONT;
    for (let i = 1; text.length < 1_000_000; i++) text += STEP(i);
    const { result, ms } = timed(() => parseRunbook(text, 'big.md'));
    expect(result.problems).toEqual([]);
    expect(result.runbook!.steps.length).toBeGreaterThan(1500);
    expect(result.runbook!.steps.at(-1)!.line).toBe(text.split('\n').lastIndexOf(`\`\`\`dynamodb {"name": "orders-${result.runbook!.steps.length}"}`) + 1);
    expect(ms).toBeLessThan(10_000);
  });

  it('parses ten thousand fences', () => {
    const text = '# Many\n\n' + Array.from({ length: 10_000 }, () => '```partiql\nSELECT * FROM "Orders"\n```\n').join('\n');
    const { result, ms } = timed(() => parseRunbook(text, 'many.md'));
    expect(result.problems).toEqual([]);
    expect(result.runbook!.steps).toHaveLength(10_000);
    expect(result.runbook!.steps[9_999].name).toBe('step-10000');
    expect(ms).toBeLessThan(10_000);
  });

  it('refuses a runbook above the size limit with one problem', () => {
    const { runbook, problems } = parseRunbook('x'.repeat(MAX_RUNBOOK_CHARS + 1), 'huge.md');
    expect(runbook).toBeUndefined();
    expect(problems).toEqual([
      { file: 'huge.md', line: 1, column: 1, message: `the runbook is ${MAX_RUNBOOK_CHARS + 1} characters long; at most ${MAX_RUNBOOK_CHARS} are read: split it` },
    ]);
  });
});

describe('pathological input', () => {
  // Each is read as what it is: prose (no step), with the one problem it has, if any.
  it.each([
    ['deeply nested lists', '- '.repeat(20_000) + 'x\n', 1, []],
    ['deeply nested quotes', '>'.repeat(20_000) + ' x\n', 1, []],
    ['nested emphasis', '*_'.repeat(20_000) + 'x\n', 1, []],
    ['a fence inside deeply nested lists', `${'  '.repeat(2_000)}- \`\`\`dynamodb\n`, 1, []],
    ['a million backticks', '`'.repeat(1_000_000), 1, ['1:1 never closed']],
    ['a 1 MB line', 'a'.repeat(1_000_000), 1, []],
    ['only newlines', '\n'.repeat(500_000), 0, []],
  ])('%s', (_name, text, sections, problems) => {
    const { result, ms } = timed(() => parseRunbook(text, 'x.md'));
    expect(result.runbook!.steps).toEqual([]);
    expect(result.runbook!.sections).toHaveLength(sections);
    expect(result.problems.map((p) => `${p.line}:${p.column} ${/never closed/.test(p.message) ? 'never closed' : p.message}`)).toEqual(problems);
    expect(ms).toBeLessThan(10_000);
  });

  it('reports deeply nested YAML in a block instead of overflowing the stack', () => {
    const text = '# x\n\n```dynamodb\n' + `operation: PutItem\nTableName: T\nItem: { a: ${'['.repeat(20_000)}${']'.repeat(20_000)} }\n` + '```\n';
    const { problems } = parseRunbook(text, 'x.md');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].line).toBeGreaterThanOrEqual(4);
  });

  it('reports deeply nested YAML in the front matter', () => {
    const { problems } = parseRunbook(`---\ntags: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n---\n# x\n`, 'x.md');
    expect(problems.length).toBeGreaterThan(0);
  });

  it('reports a deeply nested template instead of crashing', () => {
    const nested = '(upper '.repeat(5_000) + 'customerId' + ')'.repeat(5_000);
    const text = `---\nparams:\n  customerId: { type: string }\n---\n# x\n\n\`\`\`dynamodb\noperation: GetItem\nTableName: T\nKey: { id: "{{upper ${nested}}}" }\n\`\`\`\n`;
    const { result, ms } = timed(() => parseRunbook(text, 'x.md'));
    expect(ms).toBeLessThan(10_000);
    expect(result.problems.map((p) => [p.line, p.message])).toEqual([[10, 'helpers are nested more than 8 deep; simplify the template']]);
  });

  it('checks a string holding thousands of templates', () => {
    const many = '{{customerId}}-'.repeat(5_000);
    const text = `---\nparams:\n  customerId: { type: string }\n---\n# x\n\n\`\`\`dynamodb\noperation: GetItem\nTableName: T\nKey: { id: "${many}" }\n\`\`\`\n`;
    const { result, ms } = timed(() => parseRunbook(text, 'x.md'));
    expect(result.problems).toEqual([]);
    expect(ms).toBeLessThan(10_000);
  });

  it('places problems the same way with CRLF line ends and a byte-order mark', () => {
    const lf = '---\ntitel: x\n---\n# x\n\n```dynamodb\noperation: Querry\n```\n';
    const crlf = `\uFEFF${lf.replace(/\n/g, '\r\n')}`;
    const a = parseRunbook(lf, 'x.md').problems;
    const b = parseRunbook(crlf, 'x.md').problems;
    expect(a.map((p) => [p.line, p.column])).toEqual([
      [2, 1],
      [7, 12],
    ]);
    expect(b).toEqual(a);
  });
});
