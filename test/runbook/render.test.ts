/**
 * Rendering: templates fill string values of a parsed request, PartiQL templates become bound
 * `?` parameters, and no parameter value, however hostile, changes a request's structure.
 */
import { describe, expect, it } from 'vitest';
import { RECENT_ORDERS } from '../../bench/generate-runbooks.js';
import { RbError } from '../../server/errors.js';
import { coerceParams, MAX_VALUE_LENGTH } from '../../server/runbook/params.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { renderStep } from '../../server/runbook/render.js';
import type { Runbook, Step } from '../../server/runbook/types.js';

const NOW = new Date('2026-11-27T10:15:30.456Z');

const RUNBOOK = `---
params:
  customerId:
    type: string
  orderId:
    type: string
  limit:
    type: integer
    default: 10
  amount:
    type: number
    required: false
  gift:
    type: boolean
    default: false
  days:
    type: integer
    default: 7
  hours:
    type: integer
    default: 3
---
# Orders

\`\`\`dynamodb {"name": "query"}
${RECENT_ORDERS}
Limit: "{{limit}}"
ConsistentRead: "{{gift}}"
\`\`\`

\`\`\`dynamodb {"name": "put"}
operation: PutItem
TableName: Orders
Item:
  pk: "CUSTOMER#{{customerId}}"
  sk: "ORDER#{{today}}#{{orderId}}"
  orderId: "{{orderId}}"
  total: "{{amount}}"
  gift: "{{gift}}"
  label: "{{upper customerId}}/{{lower orderId}} x{{limit}}"
  createdAt: "{{now}}"
  dueAt: "{{hoursAgo hours}}"
  lines: [{ sku: "{{orderId}}", qty: "{{limit}}" }]
  __proto__: { kept: true }
\`\`\`

\`\`\`partiql {"name": "select"}
SELECT * FROM "Orders"
WHERE pk = {{concat "CUSTOMER#" customerId}} AND orderId = {{orderId}} AND total > {{amount}}
  AND status = 'PENDING' AND "sk" >= {{concat "ORDER#" (daysAgo days)}}
\`\`\`
`;

function load(text = RUNBOOK): Runbook {
  const { runbook, problems } = parseRunbook(text, 'render.md');
  expect(problems).toEqual([]);
  return runbook!;
}

const runbook = load();
const step = (name: string): Step => runbook.steps.find((s) => s.name === name)!;

function render(name: string, raw: Record<string, unknown>): { operation: string; statementKind?: string; input: Record<string, unknown> } {
  const { values, errors } = coerceParams(runbook.params, raw);
  expect(errors).toEqual([]);
  return renderStep(step(name), values, NOW);
}

describe('renderStep: dynamodb blocks', () => {
  it('renders string values and keeps the types of lone expressions', () => {
    expect(render('query', { customerId: 'C1001', orderId: 'A7', gift: 'true' })).toEqual({
      operation: 'Query',
      input: {
        TableName: 'Orders',
        KeyConditionExpression: 'pk = :pk AND sk >= :since',
        ExpressionAttributeValues: { ':pk': 'CUSTOMER#C1001', ':since': 'ORDER#2026-11-20' },
        Limit: 10,
        ConsistentRead: true,
      },
    });
  });

  it('applies every helper with the given clock', () => {
    const { input } = render('put', { customerId: 'c1001', orderId: 'A7', amount: '42.5', limit: '3' });
    const item = input.Item as Record<string, unknown>;
    expect(Object.fromEntries(Object.entries(item).filter(([key]) => key !== '__proto__'))).toEqual({
      pk: 'CUSTOMER#c1001',
      sk: 'ORDER#2026-11-27#A7',
      orderId: 'A7',
      total: 42.5,
      gift: false,
      label: 'C1001/a7 x3',
      createdAt: '2026-11-27T10:15:30Z',
      dueAt: '2026-11-27T07:15:30Z',
      lines: [{ sku: 'A7', qty: 3 }],
    });
    // An attribute named __proto__ stays an attribute: it does not become the object's prototype.
    expect(Object.getOwnPropertyNames(item)).toContain('__proto__');
    expect(Object.getOwnPropertyDescriptor(item, '__proto__')?.value).toEqual({ kept: true });
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
  });

  it('inserts values verbatim, without HTML escaping', () => {
    const { input } = render('put', { customerId: "O'Brien & <Co>", orderId: 'A"1', amount: '1' });
    expect((input.Item as Record<string, unknown>).pk).toBe("CUSTOMER#O'Brien & <Co>");
    expect((input.Item as Record<string, unknown>).orderId).toBe('A"1');
  });

  it('does not change the parsed step', () => {
    const before = JSON.stringify(step('put'));
    render('put', { customerId: 'C1', orderId: 'A7', amount: '1' });
    expect(JSON.stringify(step('put'))).toBe(before);
  });

  it('names the step and the parameter when a value is missing', () => {
    const { values } = coerceParams(runbook.params, { customerId: 'C1001', orderId: 'A7' });
    expect(() => renderStep(step('put'), values, NOW)).toThrow(
      new RbError('RB_ERR_TEMPLATE_RENDER', 'step `put`: parameter `amount` has no value; give it one or declare a default'),
    );
  });
});

describe('renderStep: partiql blocks', () => {
  it('binds every template as a parameter, in order', () => {
    expect(render('select', { customerId: 'C1001', orderId: 'A7', amount: '10' })).toEqual({
      operation: 'ExecuteStatement',
      statementKind: 'select',
      input: {
        Statement: `SELECT * FROM "Orders"\nWHERE pk = ? AND orderId = ? AND total > ?\n  AND status = 'PENDING' AND "sk" >= ?`,
        Parameters: ['CUSTOMER#C1001', 'A7', 10, 'ORDER#2026-11-20'],
      },
    });
  });

  it('leaves a statement without templates as written, without Parameters', () => {
    const rb = load('# x\n\n```partiql\n  SELECT * FROM "Orders" WHERE pk = \'CUSTOMER#C1001\'\n```\n');
    expect(renderStep(rb.steps[0], {}, NOW)).toEqual({
      operation: 'ExecuteStatement',
      statementKind: 'select',
      input: { Statement: `SELECT * FROM "Orders" WHERE pk = 'CUSTOMER#C1001'` },
    });
  });
});

describe('hostile parameter values stay plain values', () => {
  const hostile = [
    "C1001' OR 1=1 --",
    "' OR '1'='1",
    '" OR pk <> "',
    'C1001 OR 1=1',
    '{{customerId}}',
    '{{#each this}}{{@key}}{{/each}}',
    '}} {{constructor.constructor}}',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    ':pk',
    '#status',
    '?',
    'a;DELETE FROM "Orders"',
    '${process.exit()}',
    '\u202eC1001',
    'x'.repeat(MAX_VALUE_LENGTH),
  ];

  it.each(hostile.map((v) => [v.length > 40 ? `${v.slice(0, 20)}… (${v.length} chars)` : v, v]))('%s', (_label, value) => {
    const query = render('query', { customerId: value, orderId: 'A7' });
    expect(Object.keys(query.input)).toEqual(['TableName', 'KeyConditionExpression', 'ExpressionAttributeValues', 'Limit', 'ConsistentRead']);
    expect(query.input.KeyConditionExpression).toBe('pk = :pk AND sk >= :since');
    expect(query.input.ExpressionAttributeValues).toEqual({ ':pk': `CUSTOMER#${value}`, ':since': 'ORDER#2026-11-20' });

    const put = render('put', { customerId: 'C1', orderId: value, amount: '1' });
    const item = put.input.Item as Record<string, unknown>;
    expect(Object.keys(item)).toEqual(['pk', 'sk', 'orderId', 'total', 'gift', 'label', 'createdAt', 'dueAt', 'lines', '__proto__']);
    expect(item.orderId).toBe(value);
    expect(item.lines).toEqual([{ sku: value, qty: 10 }]);

    const select = render('select', { customerId: value, orderId: value, amount: '1' });
    expect(select.input).toEqual({
      Statement: `SELECT * FROM "Orders"\nWHERE pk = ? AND orderId = ? AND total > ?\n  AND status = 'PENDING' AND "sk" >= ?`,
      Parameters: [`CUSTOMER#${value}`, value, 1, 'ORDER#2026-11-20'],
    });
  });

  it.each([
    ['customerId', 'C1001\u0000', 'contains a control character (U+0000); remove it'],
    ['customerId', 'C1\r\nX-Injected: 1', 'contains a control character (U+000D); remove it'],
    ['customerId', 'x'.repeat(MAX_VALUE_LENGTH + 1), `is ${MAX_VALUE_LENGTH + 1} characters long; at most ${MAX_VALUE_LENGTH} are accepted`],
    ['customerId', { $ne: null }, 'must be a string, not an object'],
    ['customerId', ['C1001', 'C1002'], 'must be a string, not a list'],
    ['limit', '10 OR 1=1', 'must be a whole number, not "10 OR 1=1"'],
    ['limit', '1e3', 'must be a whole number, not "1e3"'],
    ['gift', 'true OR 1=1', 'must be true or false, not "true OR 1=1"'],
    ['amount', '1; DROP', 'must be a number, not "1; DROP"'],
  ])('refuses %s = %j with a clear error', (param, value, message) => {
    const { errors } = coerceParams(runbook.params, { customerId: 'C1', orderId: 'A7', [param]: value });
    expect(errors).toEqual([{ param, message }]);
  });
});

describe('templates cannot reach objects even when the checker is bypassed', () => {
  const forged = (request: Record<string, unknown>): Step => ({
    name: 'forged',
    title: 'forged',
    language: 'dynamodb',
    source: '',
    line: 1,
    bodyLine: 2,
    operation: 'GetItem',
    write: false,
    maxItems: 1,
    needsApproval: false,
    request,
  });

  it.each([
    ['{{constructor}}', 'parameter `constructor` has no value'],
    ['{{__proto__}}', 'parameter `__proto__` has no value'],
    ['{{toString}}', 'parameter `toString` has no value'],
  ])('%s', (template, message) => {
    expect(() => renderStep(forged({ TableName: 'T', Key: { id: template } }), {}, NOW)).toThrow(message);
  });

  it('has no lookup, each or with helpers', () => {
    for (const template of ['{{lookup this "constructor"}}', '{{#with this}}{{constructor}}{{/with}}', '{{#each this}}x{{/each}}']) {
      expect(() => renderStep(forged({ TableName: 'T', Key: { id: template } }), { a: 'x' }, NOW)).toThrow(RbError);
    }
  });

  it('refuses a helper argument of the wrong type at render time', () => {
    const step = forged({ TableName: 'T', Key: { id: '{{daysAgo n}}' } });
    expect(() => renderStep(step, { n: 'ten' }, NOW)).toThrow('step `forged`: `daysAgo` needs a whole number, got "ten"');
    expect(() => renderStep(step, { n: 10_000_000 }, NOW)).toThrow('`daysAgo` takes at most 100000, got 10000000');
  });
});
