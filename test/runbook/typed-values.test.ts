/**
 * DynamoDB JSON as AWS writes it (docs/format.md, "Typed values"): the form of a request's values
 * is detected or forced, a mix is a `check` error at the value that breaks it, rendering turns
 * typed values into plain ones (keeping sets, binary and long numbers as their type), templates in
 * typed values stay values, and the derived policy pins LeadingKeys from a typed key.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveSessionPolicy } from '../../server/access/derive-policy.js';
import { sendableInput } from '../../server/dynamo/values.js';
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { checkPaths } from '../../server/cli/check.js';
import { isRbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { renderStep } from '../../server/runbook/render.js';
import { exactNumber } from '../../server/runbook/typed-values.js';
import type { RenderedRequest, Step } from '../../server/runbook/types.js';

const fence = (attributes: string, body: string) => `\`\`\`dynamodb ${attributes}\n${body}\n\`\`\`\n`;
const runbook = (blocks: string, params = '') => `---\ntitle: Typed${params ? `\nparams:\n${params}` : ''}\n---\n# Steps\n${blocks}`;

function parse(text: string) {
  const { runbook: rb, problems } = parseRunbook(text, 'typed.md');
  return { steps: rb?.steps ?? [], problems: problems.map((p) => `${p.line}:${p.column}: ${p.message}`) };
}

function only(text: string): Step {
  const { steps, problems } = parse(text);
  expect(problems).toEqual([]);
  expect(steps).toHaveLength(1);
  return steps[0];
}

describe('detection', () => {
  it('a request whose every value is a type descriptor is typed; its plain twin is not', () => {
    const typed = only(
      runbook(
        fence(
          '{"name":"get"}',
          '{"operation": "GetItem", "TableName": "Thread", "Key": {"ForumName": {"S": "Amazon DynamoDB"}, "Subject": {"S": "How do I update multiple items?"}}}',
        ),
      ),
    );
    expect(typed.values).toBe('typed');
    const plain = only(
      runbook(fence('{"name":"get"}', '{"operation": "GetItem", "TableName": "Thread", "Key": {"ForumName": "Amazon DynamoDB", "Subject": "How do I update multiple items?"}}')),
    );
    expect(plain.values).toBeUndefined();
    expect(renderStep(typed, {})).toEqual(renderStep(plain, {}));
  });

  it('every value field counts: Key, Item, ExpressionAttributeValues, ExclusiveStartKey and the parts of batches and transactions', () => {
    const steps = [
      'operation: Query\nTableName: T\nKeyConditionExpression: "pk = :pk"\nExpressionAttributeValues: { ":pk": { S: a } }\nExclusiveStartKey: { pk: { S: a }, sk: { N: "2" } }',
      'operation: BatchGetItem\nRequestItems:\n  T:\n    Keys:\n      - { pk: { S: a } }\n      - { pk: { S: b } }',
      'operation: BatchWriteItem\nRequestItems:\n  T:\n    - PutRequest: { Item: { pk: { S: a }, n: { N: "1" } } }\n    - DeleteRequest: { Key: { pk: { S: b } } }',
      'operation: TransactWriteItems\nTransactItems:\n  - Put: { TableName: T, Item: { pk: { S: a } } }\n  - Update: { TableName: T, Key: { pk: { S: b } }, UpdateExpression: "SET v = :v", ExpressionAttributeValues: { ":v": { N: "2" } } }\n  - Delete: { TableName: T, Key: { pk: { S: c } } }\n  - ConditionCheck: { TableName: T, Key: { pk: { S: d } }, ConditionExpression: "attribute_exists(pk)" }',
      'operation: TransactGetItems\nTransactItems:\n  - Get: { TableName: T, Key: { pk: { S: a } } }',
    ];
    for (const body of steps) expect(only(runbook(fence('', body))).values).toBe('typed');
    const rendered = renderStep(only(runbook(fence('', steps[3]))), {});
    expect(rendered.input).toEqual({
      TransactItems: [
        { Put: { TableName: 'T', Item: { pk: 'a' } } },
        { Update: { TableName: 'T', Key: { pk: 'b' }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': 2 } } },
        { Delete: { TableName: 'T', Key: { pk: 'c' } } },
        { ConditionCheck: { TableName: 'T', Key: { pk: 'd' }, ConditionExpression: 'attribute_exists(pk)' } },
      ],
    });
  });
});

describe('a mix of typed and plain values is a check error at the value that breaks it', () => {
  it('a plain value among typed ones, as in the issue (`qty: 1` beside `{"S": …}`)', () => {
    const text = runbook(fence('{"name":"put"}', 'operation: PutItem\nTableName: Orders\nItem:\n  pk: { S: "C1001" }\n  sk: { S: "ORDER#1" }\n  qty: 1'));
    expect(parse(text).problems).toEqual([
      '11:8: `Item.qty` is a plain value, but the request\'s other values are typed (DynamoDB JSON): write it as {"N": "1"}, or write every value plain; `values=typed` or `values=plain` on the fence says which is meant',
    ]);
  });

  it('a typed value among plain ones, across fields (ExpressionAttributeValues beside a plain Key)', () => {
    const text = runbook(
      fence('', 'operation: UpdateItem\nTableName: Orders\nKey: { pk: C1001, sk: "ORDER#1" }\nUpdateExpression: "SET qty = :q"\nExpressionAttributeValues:\n  ":q": {"N": "1"}'),
    );
    expect(parse(text).problems).toEqual([
      "11:9: `ExpressionAttributeValues.:q` is written typed (DynamoDB JSON), but the request's other values are plain: write it plain, or every value typed; if it is a map attribute that only looks typed, add `values=plain` to the fence",
    ]);
  });

  it('`runbooks check` reports it as file:line:col', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rb-typed-'));
    try {
      const file = join(dir, 'mixed.md');
      await writeFile(
        file,
        runbook(
          fence(
            '',
            '{\n  "operation": "Query",\n  "TableName": "Orders",\n  "KeyConditionExpression": "pk = :pk AND sk > :sk",\n  "ExpressionAttributeValues": {\n    ":pk": {"S": "C1001"},\n    ":sk": "ORDER#"\n  }\n}',
          ),
        ),
      );
      const report = await checkPaths([file]);
      expect(report.errors).toBe(1);
      const [p] = report.files[0].problems;
      expect([p.file, p.line, p.column]).toEqual([file, 12, 12]);
      expect(p.message).toMatch(/^`ExpressionAttributeValues.:sk` is a plain value, but the request's other values are typed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('values=typed and values=plain force the reading', () => {
  const lookalike = 'operation: PutItem\nTableName: T\nItem:\n  pk: { S: x }\n  dims: { N: "3" }';

  it('detected, a map that looks like a descriptor is a typed value; with values=plain it stays a map', () => {
    expect(renderStep(only(runbook(fence('', lookalike))), {}).input).toEqual({ TableName: 'T', Item: { pk: 'x', dims: 3 } });
    const plain = only(runbook(fence('{ values=plain }', lookalike)));
    expect(plain.values).toBeUndefined();
    expect(renderStep(plain, {}).input).toEqual({ TableName: 'T', Item: { pk: { S: 'x' }, dims: { N: '3' } } });
    expect(only(runbook(fence('{"name":"p","values":"plain"}', lookalike))).values).toBeUndefined();
  });

  it('values=typed: every value must be a descriptor, and says so where one is not', () => {
    expect(only(runbook(fence('{"values":"typed"}', lookalike))).values).toBe('typed');
    const text = runbook(fence('{ values=typed }', 'operation: PutItem\nTableName: T\nItem:\n  pk: x\n  n: { N: "1" }'));
    expect(parse(text).problems).toEqual([
      '9:7: `Item.pk` must be a type descriptor of one type, like {"S": "text"} or {"N": "42"} (S, N, B, BOOL, NULL, M, L, SS, NS, BS), not the string "x"',
    ]);
  });

  it('values=plain keeps a mix-looking request plain, and other values are refused', () => {
    const text = runbook(fence('{ values=plain }', 'operation: PutItem\nTableName: T\nItem:\n  pk: x\n  meta: { S: y }'));
    expect(renderStep(only(text), {}).input).toEqual({ TableName: 'T', Item: { pk: 'x', meta: { S: 'y' } } });
    expect(parse(runbook(fence('{ values=maybe }', lookalike))).problems[0]).toMatch(/^5:15: values must be `typed` \(DynamoDB JSON, like \{"S": "x"\}\) or `plain`, not "maybe"/);
    expect(parse(`# P\n\`\`\`partiql { values=typed }\nSELECT * FROM "T" WHERE pk = 'a'\n\`\`\`\n`).problems).toEqual([
      '2:14: `values` applies to dynamodb blocks; a partiql statement writes its values in PartiQL: remove the attribute',
    ]);
  });
});

describe('typed values are checked as DynamoDB reads them', () => {
  it.each([
    ['qty: { N: "one" }', '`Item.qty.N` must be a number written as a string, like "42" or "-1.5", not "one"'],
    ['qty: { N: 12345678901234567890 }', '`Item.qty.N`: write 12345678901234567890 as a string, "12345678901234567890", so that no digit is lost'],
    ['s: { S: 12 }', '`Item.s.S` must be a string, not the number 12 (quote it: "12")'],
    ['b: { B: "not base64!" }', '`Item.b.B` must be base64 text (binary values are written base64-encoded), not "not base64!"'],
    ['f: { BOOL: "true" }', '`Item.f.BOOL` must be true or false, not the string "true"'],
    ['z: { "NULL": false }', '`Item.z.NULL` must be true: DynamoDB writes a null as {"NULL": true}'],
    ['z: { NULL: true }', '`Item.z.NULL`: write "NULL" in quotes; unquoted, YAML reads NULL as a null, not a name'],
    ['tags: { SS: [] }', '`Item.tags.SS` needs at least one member: DynamoDB has no empty sets'],
    ['tags: { SS: [a, b, a] }', '`Item.tags.SS` holds "a" twice; a set holds each member once'],
    ['ns: { NS: ["1", "1.0"] }', '`Item.ns.NS` holds "1.0" twice; a set holds each member once'],
    [
      'm: { M: { inner: plain } }',
      '`Item.m.M.inner` must be a type descriptor of one type, like {"S": "text"} or {"N": "42"} (S, N, B, BOOL, NULL, M, L, SS, NS, BS), not the string "plain"',
    ],
    [
      'l: { L: [ { S: a }, 2 ] }',
      '`Item.l.L[1]` must be a type descriptor of one type, like {"S": "text"} or {"N": "42"} (S, N, B, BOOL, NULL, M, L, SS, NS, BS), not the number 2',
    ],
    [
      'two: { S: a, N: "1" }',
      '`Item.two` is a plain value, but the request\'s other values are typed (DynamoDB JSON): write it as {"M": {…}}, or write every value plain; `values=typed` or `values=plain` on the fence says which is meant',
    ],
  ])('%s', (attribute, message) => {
    const { problems } = parse(runbook(fence('', `operation: PutItem\nTableName: T\nItem:\n  pk: { S: x }\n  ${attribute}`)));
    expect(problems.map((p) => p.replace(/^\d+:\d+: /, ''))).toEqual([message]);
  });

  it('a document nested deeper than 32 levels is refused', () => {
    let value = '{ S: x }';
    for (let i = 0; i < 33; i++) value = `{ M: { a: ${value} } }`;
    const { problems } = parse(runbook(fence('', `operation: PutItem\nTableName: T\nItem:\n  pk: { S: x }\n  deep: ${value}`)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/is nested deeper than 32 levels/);
  });
});

describe('rendering: plain values where JSON holds them, kept types where it cannot', () => {
  const PUT = `{
  "operation": "PutItem",
  "TableName": "Thread",
  "Item": {
    "ForumName": {"S": "Amazon DynamoDB"},
    "Views": {"N": "42"},
    "Price": {"N": "1.50"},
    "Big": {"N": "12345678901234567890"},
    "Answered": {"BOOL": false},
    "Gone": {"NULL": true},
    "Tags": {"SS": ["Update", "Multiple Items"]},
    "Scores": {"NS": ["1", "2.5"]},
    "Blob": {"B": "aGVsbG8="},
    "Blobs": {"BS": ["aGVsbG8=", "d29ybGQ="]},
    "Meta": {"M": {"author": {"S": "fred"}, "tags": {"SS": ["x"]}, "__proto__": {"N": "1"}}},
    "Lines": {"L": [{"M": {"sku": {"S": "BOOK-1"}, "qty": {"N": "2"}}}, {"NULL": true}]}
  }
}`;

  it('S, N, BOOL, NULL, M and L become plain values; SS, NS, B, BS and a long N stay typed, their paths listed', () => {
    const request = renderStep(only(runbook(fence('', PUT))), {}) as Extract<RenderedRequest, { typedValues?: unknown }>;
    const meta: Record<string, unknown> = { author: 'fred', tags: { SS: ['x'] } };
    Object.defineProperty(meta, '__proto__', { value: 1, enumerable: true, writable: true, configurable: true });
    expect(request.input).toEqual({
      TableName: 'Thread',
      Item: {
        ForumName: 'Amazon DynamoDB',
        Views: 42,
        Price: 1.5,
        Big: { N: '12345678901234567890' },
        Answered: false,
        Gone: null,
        Tags: { SS: ['Update', 'Multiple Items'] },
        Scores: { NS: ['1', '2.5'] },
        Blob: { B: 'aGVsbG8=' },
        Blobs: { BS: ['aGVsbG8=', 'd29ybGQ='] },
        Meta: meta,
        Lines: [{ sku: 'BOOK-1', qty: 2 }, null],
      },
    });
    expect(Object.getPrototypeOf((request.input.Item as Record<string, unknown>).Meta)).toBe(Object.prototype);
    expect(request.typedValues).toEqual([
      ['Item', 'Big'],
      ['Item', 'Tags'],
      ['Item', 'Scores'],
      ['Item', 'Blob'],
      ['Item', 'Blobs'],
      ['Item', 'Meta', 'tags'],
    ]);
    // The request survives JSON (approvals and replicas store it so) and is sent with its types.
    const stored = JSON.parse(JSON.stringify(request)) as RenderedRequest;
    const sent = sendableInput(stored).Item as Record<string, unknown>;
    expect(sent.Big).toBeInstanceOf(NumberValue);
    expect(String(sent.Big)).toBe('12345678901234567890');
    expect(sent.Tags).toEqual(new Set(['Update', 'Multiple Items']));
    expect([...(sent.Scores as Set<NumberValue>)].map(String)).toEqual(['1', '2.5']);
    expect(Buffer.from(sent.Blob as Uint8Array).toString()).toBe('hello');
    expect([...(sent.Blobs as Set<Uint8Array>)].map((b) => Buffer.from(b).toString())).toEqual(['hello', 'world']);
    expect((sent.Meta as Record<string, unknown>).tags).toEqual(new Set(['x']));
    expect((stored.input as Record<string, unknown>).Item).not.toBe(sent);
  });

  it('a number is plain only when JSON holds it exactly', () => {
    expect(exactNumber('42')).toBe(42);
    expect(exactNumber('-1.50')).toBe(-1.5);
    expect(exactNumber('1e3')).toBe(1000);
    expect(exactNumber('0.1')).toBe(0.1);
    expect(exactNumber('9007199254740993')).toBeUndefined();
    expect(exactNumber('9007199254740994')).toBeUndefined();
    expect(exactNumber('0.30000000000000000001')).toBeUndefined();
    expect(exactNumber('1e400')).toBeUndefined();
  });
});

describe('templates in typed values stay values', () => {
  const params = '  id: { type: string }\n  qty: { type: integer }\n  flag: { type: boolean }\n  amount: { type: string }';
  const step = only(
    runbook(
      fence(
        '',
        'operation: UpdateItem\nTableName: Orders\nKey: { pk: { S: "{{id}}" } }\nUpdateExpression: "SET qty = :q, note = :n, flag = :f, amount = :a"\nExpressionAttributeValues:\n  ":q": { N: "{{qty}}" }\n  ":n": { S: "qty {{qty}}" }\n  ":f": { BOOL: "{{flag}}" }\n  ":a": { N: "{{amount}}" }',
      ),
      params,
    ),
  );

  it("a parameter fills the value inside its descriptor, with the descriptor's type", () => {
    expect(renderStep(step, { id: 'C1001', qty: 3, flag: true, amount: '12.50' }).input).toEqual({
      TableName: 'Orders',
      Key: { pk: 'C1001' },
      UpdateExpression: 'SET qty = :q, note = :n, flag = :f, amount = :a',
      ExpressionAttributeValues: { ':q': 3, ':n': 'qty 3', ':f': true, ':a': 12.5 },
    });
  });

  it('a hostile value is text in an S, and refused where the descriptor wants a number', () => {
    const hostile = '{"N": "1"}, ":x": {"S": "y"}';
    const out = renderStep(step, { id: hostile, qty: 1, flag: false, amount: '1' }).input as Record<string, unknown>;
    expect(out.Key).toEqual({ pk: hostile });
    expect(Object.keys(out.ExpressionAttributeValues as object)).toEqual([':q', ':n', ':f', ':a']);
    for (const amount of ['1 OR 1=1', '{"N": "1"}', '']) {
      const err = (() => {
        try {
          renderStep(step, { id: 'x', qty: 1, flag: false, amount });
        } catch (e) {
          return e;
        }
      })();
      expect(isRbError(err) && err.code).toBe('RB_ERR_TEMPLATE_RENDER');
      expect((err as Error).message).toContain('`ExpressionAttributeValues.:a.N` must be a number');
    }
  });

  it('check: a template of the wrong type inside a descriptor is refused', () => {
    const text = runbook(fence('', 'operation: PutItem\nTableName: T\nItem:\n  pk: { S: x }\n  n: { N: "{{flag}}" }\n  f: { BOOL: "{{qty}}" }'), params);
    expect(parse(text).problems.map((p) => p.replace(/^\d+:\d+: /, ''))).toEqual([
      '`Item.n.N` needs a number, but its template yields true or false',
      '`Item.f.BOOL` must be true or false: use one template naming a boolean parameter',
    ]);
  });
});

describe('derived policies read typed keys', () => {
  const ctx = { region: 'us-east-1', account: '000000000000', partitionKeys: { Thread: 'ForumName', Reply: 'Id' } };
  const pinned = (policy: ReturnType<typeof deriveSessionPolicy>) => policy.Statement.map((s) => s.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys']);

  it('GetItem, PutItem, a Query of the table and a transaction pin LeadingKeys from typed keys, parameters included', () => {
    const cases: Array<[string, string[]]> = [
      ['{"operation": "GetItem", "TableName": "Thread", "Key": {"ForumName": {"S": "{{forum}}"}, "Subject": {"S": "x"}}}', ['Amazon DynamoDB']],
      ['{"operation": "PutItem", "TableName": "Thread", "Item": {"ForumName": {"S": "{{forum}}"}, "Subject": {"S": "x"}, "Tags": {"SS": ["a"]}}}', ['Amazon DynamoDB']],
      [
        '{"operation": "Query", "TableName": "Reply", "KeyConditionExpression": "Id = :v1", "ExpressionAttributeValues": {":v1": {"S": "{{forum}}#Thread 1"}}}',
        ['Amazon DynamoDB#Thread 1'],
      ],
      [
        '{"operation": "TransactWriteItems", "TransactItems": [{"Put": {"TableName": "Thread", "Item": {"ForumName": {"S": "{{forum}}"}, "Subject": {"S": "a"}}}}, {"Delete": {"TableName": "Thread", "Key": {"ForumName": {"S": "Other"}, "Subject": {"S": "b"}}}}]}',
        ['Amazon DynamoDB', 'Other'],
      ],
    ];
    for (const [body, keys] of cases) {
      const step = only(runbook(fence('', body), '  forum: { type: string }'));
      const policy = deriveSessionPolicy(renderStep(step, { forum: 'Amazon DynamoDB' }), ctx);
      expect(pinned(policy).flat().filter(Boolean).sort()).toEqual(keys);
    }
  });

  it('a numeric partition key pins its number as DynamoDB writes it', () => {
    const step = only(runbook(fence('', '{"operation": "GetItem", "TableName": "Thread", "Key": {"ForumName": {"N": "1.50"}}}')));
    expect(pinned(deriveSessionPolicy(renderStep(step, {}), ctx))).toEqual([['1.5']]);
  });
});

describe('the samples are untouched', () => {
  it('every sample runbook checks clean and none of its steps reads as typed', async () => {
    const report = await checkPaths([join(import.meta.dirname, '../../runbooks')]);
    expect(report.errors).toBe(0);
    const { loadRunbookFile } = await import('../../server/runbook/load.js');
    for (const f of report.files) {
      const { runbook: rb } = await loadRunbookFile(f.file, f.id);
      for (const s of rb?.steps ?? []) expect(s.values).toBeUndefined();
    }
  });
});
