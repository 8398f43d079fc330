/**
 * Requests copied from the AWS documentation, in DynamoDB JSON, run through the engine against the
 * sandbox: the GetItem, Query, PutItem and UpdateItem examples of the DynamoDB API Reference and the
 * TransactWriteItems example of the AWS CLI reference (the API Reference page shows none), with
 * only the table names made unique. Each runs on its own tables beside its plain-form twin on twin
 * tables; results and table contents must be the same, every typed value stored with its type
 * (a string set as SS, never a map), and the sessions pinned to the typed partition keys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, PutItemCommand, ScanCommand, type AttributeValue, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunbook } from '../../server/runbook/parse.js';
import type { RunEngine } from '../../server/runs/engine.js';
import type { StepExecution } from '../../server/runs/types.js';
import { plainFromAttributes } from '../../server/dynamo/values.js';
import { testEngine } from '../helpers/engine.js';
import { createTestTable, localDynamo, uniqueTableName } from '../helpers/sandbox.js';

const names = () => ({ thread: uniqueTableName('typed-thread'), reply: uniqueTableName('typed-reply'), music: uniqueTableName('typed-music') });
const typedTables = names();
const plainTables = names();
type Tables = typeof typedTables;

// The examples as the references print them; only TableName differs.
const TYPED = (t: Tables) => ({
  put: `{
    "TableName": "${t.thread}",
    "Item": {
        "LastPostDateTime": {
            "S": "201303190422"
        },
        "Tags": {
            "SS": ["Update","Multiple Items","HelpMe"]
        },
        "ForumName": {
            "S": "Amazon DynamoDB"
        },
        "Message": {
            "S": "I want to update multiple items in a single call. What's the best way to do that?"
        },
        "Subject": {
            "S": "How do I update multiple items?"
        },
        "LastPostedBy": {
            "S": "fred@example.com"
        }
    },
    "ConditionExpression": "ForumName <> :f and Subject <> :s",
    "ExpressionAttributeValues": {
        ":f": {"S": "Amazon DynamoDB"},
        ":s": {"S": "How do I update multiple items?"}
    }
}`,
  get: `{
    "TableName": "${t.thread}",
    "Key": {
        "ForumName": {
            "S": "Amazon DynamoDB"
        },
        "Subject": {
            "S": "How do I update multiple items?"
        }
    },
    "ProjectionExpression":"LastPostDateTime, Message, Tags",
    "ConsistentRead": true,
    "ReturnConsumedCapacity": "TOTAL"
}`,
  query: `{
    "TableName": "${t.reply}",
    "IndexName": "PostedBy-Index",
    "Limit": 3,
    "ConsistentRead": true,
    "ProjectionExpression": "Id, PostedBy, ReplyDateTime",
    "KeyConditionExpression": "Id = :v1 AND PostedBy BETWEEN :v2a AND :v2b",
    "ExpressionAttributeValues": {
        ":v1": {"S": "Amazon DynamoDB#DynamoDB Thread 1"},
        ":v2a": {"S": "User A"},
        ":v2b": {"S": "User C"}
    },
    "ReturnConsumedCapacity": "TOTAL"
}`,
  update: `{
    "TableName": "${t.thread}",
    "Key": {
        "ForumName": {
            "S": "Amazon DynamoDB"
        },
        "Subject": {
            "S": "Maximum number of items?"
        }
    },
    "UpdateExpression": "set LastPostedBy = :val1",
    "ConditionExpression": "LastPostedBy = :val2",
    "ExpressionAttributeValues": {
        ":val1": {"S": "alice@example.com"},
        ":val2": {"S": "fred@example.com"}
    },
    "ReturnValues": "ALL_NEW"
}`,
  transact: `{
  "TransactItems": [
    {
        "Update": {
            "Key": {
                "Artist": {"S": "Acme Band"},
                "SongTitle": {"S": "Happy Day"}
            },
            "UpdateExpression": "SET AlbumTitle = :newval",
            "ExpressionAttributeValues": {
                ":newval": {"S": "Updated Album Title"}
            },
            "TableName": "${t.music}",
            "ConditionExpression": "attribute_not_exists(Rating)"
        }
    },
    {
        "Delete": {
            "Key": {
                "Artist": {"S": "No One You Know"},
                "SongTitle": {"S": "Call Me Today"}
            },
            "TableName": "${t.music}",
            "ConditionExpression": "attribute_not_exists(Rating)"
        }
    }
  ]
}`,
});

// The same requests with plain values. Plain JSON has no string set: the twin writes Tags as a list.
const PLAIN = (t: Tables) => ({
  put: `TableName: ${t.thread}
Item:
  LastPostDateTime: "201303190422"
  Tags: [Update, Multiple Items, HelpMe]
  ForumName: Amazon DynamoDB
  Message: "I want to update multiple items in a single call. What's the best way to do that?"
  Subject: How do I update multiple items?
  LastPostedBy: fred@example.com
ConditionExpression: "ForumName <> :f and Subject <> :s"
ExpressionAttributeValues: { ":f": Amazon DynamoDB, ":s": How do I update multiple items? }`,
  get: `TableName: ${t.thread}
Key: { ForumName: Amazon DynamoDB, Subject: How do I update multiple items? }
ProjectionExpression: LastPostDateTime, Message, Tags
ConsistentRead: true
ReturnConsumedCapacity: TOTAL`,
  query: `TableName: ${t.reply}
IndexName: PostedBy-Index
Limit: 3
ConsistentRead: true
ProjectionExpression: Id, PostedBy, ReplyDateTime
KeyConditionExpression: Id = :v1 AND PostedBy BETWEEN :v2a AND :v2b
ExpressionAttributeValues: { ":v1": "Amazon DynamoDB#DynamoDB Thread 1", ":v2a": User A, ":v2b": User C }
ReturnConsumedCapacity: TOTAL`,
  update: `TableName: ${t.thread}
Key: { ForumName: Amazon DynamoDB, Subject: Maximum number of items? }
UpdateExpression: set LastPostedBy = :val1
ConditionExpression: LastPostedBy = :val2
ExpressionAttributeValues: { ":val1": alice@example.com, ":val2": fred@example.com }
ReturnValues: ALL_NEW`,
  transact: `TransactItems:
  - Update:
      Key: { Artist: Acme Band, SongTitle: Happy Day }
      UpdateExpression: SET AlbumTitle = :newval
      ExpressionAttributeValues: { ":newval": Updated Album Title }
      TableName: ${t.music}
      ConditionExpression: attribute_not_exists(Rating)
  - Delete:
      Key: { Artist: No One You Know, SongTitle: Call Me Today }
      TableName: ${t.music}
      ConditionExpression: attribute_not_exists(Rating)`,
});

const OPERATIONS = { put: 'PutItem', get: 'GetItem', query: 'Query', update: 'UpdateItem', transact: 'TransactWriteItems' } as const;
const STEPS = Object.keys(OPERATIONS) as Array<keyof typeof OPERATIONS>;

/** A runbook of the five requests; JSON bodies take `operation` as their first field. */
function runbookOf(bodies: Record<keyof typeof OPERATIONS, string>, json: boolean): string {
  const blocks = STEPS.map((step) => {
    const body = json ? bodies[step].replace(/^\{/, `{\n    "operation": "${OPERATIONS[step]}",`) : `operation: ${OPERATIONS[step]}\n${bodies[step]}`;
    return `## ${step}\n\`\`\`dynamodb {"name":"${step}"}\n${body}\n\`\`\`\n`;
  });
  return `---\ntitle: API reference examples\n---\n# Examples\n${blocks.join('\n')}`;
}

const S = (s: string): AttributeValue => ({ S: s });
async function createTables(t: Tables): Promise<void> {
  const local = localDynamo();
  const keyed = (TableName: string, hash: string, range: string, extra: Partial<CreateTableCommandInput> = {}): CreateTableCommandInput => ({
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' },
      { AttributeName: range, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: hash, AttributeType: 'S' },
      { AttributeName: range, AttributeType: 'S' },
    ],
    ...extra,
  });
  try {
    await local.send(new CreateTableCommand(keyed(t.thread, 'ForumName', 'Subject')));
    const reply = keyed(t.reply, 'Id', 'ReplyDateTime');
    reply.AttributeDefinitions!.push({ AttributeName: 'PostedBy', AttributeType: 'S' });
    reply.LocalSecondaryIndexes = [
      {
        IndexName: 'PostedBy-Index',
        KeySchema: [
          { AttributeName: 'Id', KeyType: 'HASH' },
          { AttributeName: 'PostedBy', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ];
    await local.send(new CreateTableCommand(reply));
    await local.send(new CreateTableCommand(keyed(t.music, 'Artist', 'SongTitle')));
    const seed: Array<[string, Record<string, AttributeValue>]> = [
      [
        t.thread,
        { ForumName: S('Amazon DynamoDB'), Subject: S('Maximum number of items?'), LastPostedBy: S('fred@example.com'), Views: { N: '3' }, Tags: { SS: ['Items', 'Limits'] } },
      ],
      [t.reply, { Id: S('Amazon DynamoDB#DynamoDB Thread 1'), ReplyDateTime: S('2015-09-15T19:58:22.947Z'), PostedBy: S('User A'), Message: S('Reply 1') }],
      [t.reply, { Id: S('Amazon DynamoDB#DynamoDB Thread 1'), ReplyDateTime: S('2015-09-22T19:58:22.947Z'), PostedBy: S('User B'), Message: S('Reply 2') }],
      [t.reply, { Id: S('Amazon DynamoDB#DynamoDB Thread 1'), ReplyDateTime: S('2015-09-29T19:58:22.947Z'), PostedBy: S('User D'), Message: S('Reply 3') }],
      [t.reply, { Id: S('Amazon DynamoDB#DynamoDB Thread 2'), ReplyDateTime: S('2015-09-22T19:58:22.947Z'), PostedBy: S('User A'), Message: S('Reply 1') }],
      [t.music, { Artist: S('Acme Band'), SongTitle: S('Happy Day'), AlbumTitle: S('Songs About Life') }],
      [t.music, { Artist: S('No One You Know'), SongTitle: S('Call Me Today'), AlbumTitle: S('Somewhat Famous') }],
    ];
    for (const [TableName, Item] of seed) await local.send(new PutItemCommand({ TableName, Item }));
  } finally {
    local.destroy();
  }
}

/** A table's items as DynamoDB holds them (DynamoDB JSON), in key order. */
async function rawContents(table: string): Promise<Array<Record<string, AttributeValue>>> {
  const local = localDynamo();
  try {
    const items = (await local.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
    return items.sort((a, b) => JSON.stringify(Object.entries(a).sort()).localeCompare(JSON.stringify(Object.entries(b).sort())));
  } finally {
    local.destroy();
  }
}

/** Plain data of items, with the members of `Tags` sorted: a set has no order, its twin's list has one. */
function view(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(view);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'Tags' && Array.isArray(v) ? [...v].sort() : view(v)]));
}
const rawView = (items: Array<Record<string, AttributeValue>>) => view(items.map((item) => plainFromAttributes(item as unknown as Record<string, Record<string, unknown>>)));

describe('requests copied from the AWS references, in DynamoDB JSON, give the same items as their plain twins', { timeout: 60_000 }, () => {
  let dataDir: string;
  let engine: RunEngine;
  const runs: Record<'typed' | 'plain', string> = { typed: '', plain: '' };
  const executions: Record<'typed' | 'plain', Partial<Record<keyof typeof OPERATIONS, StepExecution>>> = { typed: {}, plain: {} };

  beforeAll(async () => {
    await Promise.all([createTables(typedTables), createTables(plainTables)]);
    dataDir = await mkdtemp(join(tmpdir(), 'rb-typed-'));
    engine = await testEngine({ dataDir });
    for (const form of ['typed', 'plain'] as const) {
      const source = form === 'typed' ? runbookOf(TYPED(typedTables), true) : runbookOf(PLAIN(plainTables), false);
      const { runbook, problems } = parseRunbook(source, `${form}.md`);
      expect(problems).toEqual([]);
      expect(runbook!.steps.map((s) => s.values)).toEqual(STEPS.map(() => (form === 'typed' ? 'typed' : undefined)));
      runs[form] = (await engine.startRun({ runbook: runbook!, source, runbookId: form, params: {}, user: 'alice' })).id;
    }
  });
  afterAll(async () => {
    await engine?.close();
    await rm(dataDir, { recursive: true, force: true });
    const local = localDynamo();
    for (const TableName of [...Object.values(typedTables), ...Object.values(plainTables)]) await local.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
    local.destroy();
  });

  it.each(STEPS)('%s: the same result as the plain twin', async (step) => {
    for (const form of ['typed', 'plain'] as const) {
      const execution = await engine.executeStep(runs[form], step, { user: 'alice', confirm: OPERATIONS[step] !== 'GetItem' && OPERATIONS[step] !== 'Query' });
      expect(execution.error).toBeUndefined();
      expect(execution.status).toBe('succeeded');
      executions[form][step] = execution;
    }
    const [typed, twin] = [executions.typed[step]!, executions.plain[step]!];
    expect(view(typed.items)).toEqual(view(twin.items));
    expect(view(typed.attributes)).toEqual(view(twin.attributes));
    expect(typed.count).toBe(twin.count);
    const expected = { put: 0, get: 1, query: 2, update: 0, transact: 0 }[step];
    expect(typed.items).toHaveLength(expected);
  });

  it('the tables hold the same items, every typed value stored with its type', async () => {
    for (const key of ['thread', 'reply', 'music'] as const) {
      const [typed, twin] = await Promise.all([rawContents(typedTables[key]), rawContents(plainTables[key])]);
      expect(rawView(typed)).toEqual(rawView(twin));
    }
    const thread = await rawContents(typedTables.thread);
    const put = thread.find((i) => i.Subject.S === 'How do I update multiple items?')!;
    const written = (JSON.parse(TYPED(typedTables).put) as { Item: Record<string, AttributeValue> }).Item;
    // Stored exactly as written: strings as S and the tags as a string set, nothing as a map.
    expect({ ...put, Tags: { SS: [...put.Tags.SS!].sort() } }).toEqual({ ...written, Tags: { SS: [...written.Tags.SS!].sort() } });
    const updated = thread.find((i) => i.Subject.S === 'Maximum number of items?')!;
    expect(updated.LastPostedBy).toEqual({ S: 'alice@example.com' });
    expect(updated.Views).toEqual({ N: '3' });
    expect(await rawContents(typedTables.music)).toEqual([{ Artist: S('Acme Band'), SongTitle: S('Happy Day'), AlbumTitle: S('Updated Album Title') }]);
  });

  it('each session was pinned to the typed partition keys, as its twin was', () => {
    const leading = (e: StepExecution | undefined) =>
      ((e?.policy as { Statement: Array<{ Condition?: Record<string, Record<string, string[]>> }> }).Statement ?? []).map(
        (s) => s.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'] ?? null,
      );
    expect(leading(executions.typed.get)).toEqual([['Amazon DynamoDB']]);
    expect(leading(executions.typed.put)).toEqual([['Amazon DynamoDB']]);
    expect(leading(executions.typed.update)).toEqual([['Amazon DynamoDB']]);
    expect(leading(executions.typed.transact)?.flat().sort()).toEqual(['Acme Band', 'No One You Know']);
    // A Query of an index is never pinned (docs/security.md).
    expect(leading(executions.typed.query)).toEqual([null]);
    for (const step of STEPS) expect(leading(executions.typed[step])).toEqual(leading(executions.plain[step]));
  });
});

describe('the issue\'s order item: a typed number is stored as a number, never as the map {"N": "1"}', { timeout: 60_000 }, () => {
  const table = uniqueTableName('typed-orders');
  let dataDir: string;
  let engine: RunEngine;

  beforeAll(async () => {
    await createTestTable(table, ['pk', 'sk']);
    dataDir = await mkdtemp(join(tmpdir(), 'rb-typed-orders-'));
    engine = await testEngine({ dataDir });
  });
  afterAll(async () => {
    await engine?.close();
    await rm(dataDir, { recursive: true, force: true });
    const local = localDynamo();
    await local.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    local.destroy();
  });

  it('PutItem with typed values and a parameter, then a Query by the typed key and a typed ADD to a set', async () => {
    const source = `---
title: Orders
params:
  customer: { type: string }
  qty: { type: integer }
---
# Put
\`\`\`dynamodb {"name":"put"}
operation: PutItem
TableName: ${table}
Item:
  pk: { S: "CUSTOMER#{{customer}}" }
  sk: { S: "ORDER#A7" }
  qty: { N: "{{qty}}" }
  total: { N: "12345678901234567890.5" }
  tags: { SS: [urgent] }
  payload: { B: "aGVsbG8=" }
  lines: { L: [ { M: { sku: { S: BOOK-1 }, qty: { N: "1" } } } ] }
  gift: { BOOL: false }
  note: { "NULL": true }
\`\`\`
# Tag
\`\`\`dynamodb {"name":"tag"}
operation: UpdateItem
TableName: ${table}
Key: { pk: { S: "CUSTOMER#{{customer}}" }, sk: { S: "ORDER#A7" } }
UpdateExpression: "ADD tags :t"
ExpressionAttributeValues: { ":t": { SS: [checked] } }
\`\`\`
# Read
\`\`\`dynamodb {"name":"read"}
operation: Query
TableName: ${table}
KeyConditionExpression: "pk = :v1"
ExpressionAttributeValues: { ":v1": { S: "CUSTOMER#{{customer}}" } }
\`\`\`
`;
    const { runbook, problems } = parseRunbook(source, 'orders.md');
    expect(problems).toEqual([]);
    const runId = (await engine.startRun({ runbook: runbook!, source, runbookId: 'orders', params: { customer: 'C1001', qty: 1 }, user: 'alice' })).id;
    for (const step of ['put', 'tag']) expect((await engine.executeStep(runId, step, { user: 'alice', confirm: true })).status).toBe('succeeded');
    const read = await engine.executeStep(runId, 'read', { user: 'alice' });
    expect(read.status).toBe('succeeded');
    expect(read.items).toHaveLength(1);
    expect(read.items[0]).toMatchObject({ pk: 'CUSTOMER#C1001', qty: 1, gift: false, note: null, lines: [{ sku: 'BOOK-1', qty: 1 }] });
    const [stored] = await rawContents(table);
    expect(stored.qty).toEqual({ N: '1' });
    expect(stored.total).toEqual({ N: '12345678901234567890.5' });
    expect([...stored.tags.SS!].sort()).toEqual(['checked', 'urgent']);
    expect(Buffer.from(stored.payload.B!).toString()).toBe('hello');
    expect(stored.lines).toEqual({ L: [{ M: { sku: { S: 'BOOK-1' }, qty: { N: '1' } } }] });
    expect(stored.gift).toEqual({ BOOL: false });
    expect(stored.note).toEqual({ NULL: true });
    // The recorded request is the plain one, sets and the long number kept as written.
    const put = engine.getRun(runId)!.executions.find((e) => e.step === 'put')!;
    expect(put.request).toMatchObject({
      input: { Item: { pk: 'CUSTOMER#C1001', qty: 1, total: { N: '12345678901234567890.5' }, tags: { SS: ['urgent'] } } },
      typedValues: [
        ['Item', 'total'],
        ['Item', 'tags'],
        ['Item', 'payload'],
      ],
    });
  });
});
