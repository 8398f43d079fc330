/**
 * Every operation of docs/format.md and PartiQL SELECT/INSERT/UPDATE/DELETE, end to end from one
 * runbook through the engine (render → policy → AssumeRole → gateway → DynamoDB Local), compared
 * with the same request sent directly with the Document Client. Reads are compared by their
 * results; writes run through the engine on table A and directly on its twin B, then both tables
 * and the returned attributes must be equal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseRunbook } from '../../server/runbook/parse.js';
import type { RenderedRequest } from '../../server/runbook/types.js';
import { RunEngine } from '../../server/runs/engine.js';
import { sendDirect } from '../helpers/direct.js';
import { testEngine } from '../helpers/engine.js';
import { createTestTable, localDynamo } from '../helpers/sandbox.js';

const sandbox = inject('sandbox');
const suffix = Date.now().toString(36);
const A = `OpsA${suffix}`;
const B = `OpsB${suffix}`;

const direct = DynamoDBDocumentClient.from(localDynamo(sandbox));

const SEED = [
  { pk: 'P1', sk: 'S1', status: 'OPEN', n: 1, tags: ['a', 'b'] },
  { pk: 'P1', sk: 'S2', status: 'DONE', n: 2 },
  { pk: 'P1', sk: 'S3', status: 'OPEN', n: 3, nested: { deep: { list: [1, 'two', { three: true }] } } },
  { pk: 'P2', sk: 'S1', status: 'OPEN', n: 4 },
  { pk: 'P3', sk: 'S1', status: 'DONE', n: 5 },
];

const fence = (lang: string, name: string, body: string) => `\n## ${name}\n\n\`\`\`${lang} {"name":"${name}"}\n${body.trim()}\n\`\`\`\n`;

const RUNBOOK = `---
title: Every operation
params:
  pk: { type: string }
  status: { type: enum, values: [OPEN, DONE] }
  n: { type: integer }
---
# Every operation
${fence(
  'dynamodb',
  'get',
  `
operation: GetItem
TableName: ${A}
Key: { pk: "{{pk}}", sk: S1 }
`,
)}${fence(
  'dynamodb',
  'query',
  `
operation: Query
TableName: ${A}
KeyConditionExpression: "pk = :pk AND sk >= :from"
ExpressionAttributeValues: { ":pk": "{{pk}}", ":from": S2 }
`,
)}${fence(
  'dynamodb',
  'query-index',
  `
operation: Query
TableName: ${A}
IndexName: ByStatus
KeyConditionExpression: "#s = :s"
ExpressionAttributeNames: { "#s": status }
ExpressionAttributeValues: { ":s": "{{status}}" }
`,
)}${fence(
  'dynamodb',
  'scan',
  `
operation: Scan
TableName: ${A}
FilterExpression: "n >= :n"
ExpressionAttributeValues: { ":n": "{{n}}" }
`,
)}${fence(
  'dynamodb',
  'batch-get',
  `
operation: BatchGetItem
RequestItems:
  ${A}:
    Keys:
      - { pk: "{{pk}}", sk: S1 }
      - { pk: P2, sk: S1 }
`,
)}${fence(
  'dynamodb',
  'transact-get',
  `
operation: TransactGetItems
TransactItems:
  - Get: { TableName: ${A}, Key: { pk: "{{pk}}", sk: S2 } }
  - Get: { TableName: ${A}, Key: { pk: P3, sk: S1 } }
`,
)}${fence(
  'dynamodb',
  'describe',
  `
operation: DescribeTable
TableName: ${A}
`,
)}${fence(
  'partiql',
  'partiql-select',
  `
SELECT pk, sk, n FROM "${A}" WHERE pk = {{pk}}
`,
)}${fence(
  'dynamodb',
  'put',
  `
operation: PutItem
TableName: ${A}
Item: { pk: "{{pk}}", sk: S9, status: OPEN, n: "{{n}}", note: "O'Brien & <Co>" }
ReturnValues: ALL_OLD
`,
)}${fence(
  'dynamodb',
  'update',
  `
operation: UpdateItem
TableName: ${A}
Key: { pk: "{{pk}}", sk: S1 }
UpdateExpression: "SET n = n + :inc, #s = :s"
ConditionExpression: "attribute_exists(pk)"
ExpressionAttributeNames: { "#s": status }
ExpressionAttributeValues: { ":inc": "{{n}}", ":s": DONE }
ReturnValues: ALL_NEW
`,
)}${fence(
  'dynamodb',
  'delete',
  `
operation: DeleteItem
TableName: ${A}
Key: { pk: P2, sk: S1 }
ReturnValues: ALL_OLD
`,
)}${fence(
  'dynamodb',
  'batch-write',
  `
operation: BatchWriteItem
RequestItems:
  ${A}:
    - PutRequest: { Item: { pk: "{{pk}}", sk: S7, status: OPEN, n: 7 } }
    - DeleteRequest: { Key: { pk: P3, sk: S1 } }
`,
)}${fence(
  'dynamodb',
  'transact-write',
  `
operation: TransactWriteItems
TransactItems:
  - ConditionCheck:
      TableName: ${A}
      Key: { pk: "{{pk}}", sk: S2 }
      ConditionExpression: "#s = :done"
      ExpressionAttributeNames: { "#s": status }
      ExpressionAttributeValues: { ":done": DONE }
  - Update:
      TableName: ${A}
      Key: { pk: "{{pk}}", sk: S3 }
      UpdateExpression: "SET n = :n"
      ExpressionAttributeValues: { ":n": "{{n}}" }
  - Put:
      TableName: ${A}
      Item: { pk: P4, sk: S1, status: OPEN, n: 40 }
`,
)}${fence(
  'partiql',
  'partiql-insert',
  `
INSERT INTO "${A}" VALUE {'pk': {{pk}}, 'sk': 'S8', 'status': 'OPEN', 'n': {{n}}}
`,
)}${fence(
  'partiql',
  'partiql-update',
  `
UPDATE "${A}" SET n = {{n}} WHERE pk = {{pk}} AND sk = 'S8'
`,
)}${fence(
  'partiql',
  'partiql-delete',
  `
DELETE FROM "${A}" WHERE pk = {{pk}} AND sk = 'S9'
`,
)}`;

const PARAMS = { pk: 'P1', status: 'OPEN', n: '2' };

let engine: RunEngine;
let runId: string;
let dataDir: string;

/** The same request on the twin table B. */
function onTwin(request: RenderedRequest): RenderedRequest {
  return JSON.parse(JSON.stringify(request).split(A).join(B)) as RenderedRequest;
}

async function execute(step: string) {
  const ex = await engine.executeStep(runId, step, { user: 'ops', confirm: true });
  expect(ex.error).toBeUndefined();
  expect(ex.status).toBe('succeeded');
  return ex;
}

const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) => `${a.pk}/${a.sk}`.localeCompare(`${b.pk}/${b.sk}`);
const scanAll = async (table: string) => ((await direct.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? []).sort(byKey);

beforeAll(async () => {
  for (const table of [A, B]) {
    await createTestTable(table, ['pk', 'sk'], sandbox, { ByStatus: 'status' });
    for (const item of SEED) await direct.send(new PutCommand({ TableName: table, Item: item }));
  }
  dataDir = await mkdtemp(join(tmpdir(), 'rb-ops-'));
  engine = await testEngine({ dataDir }, sandbox);
  const { runbook, problems } = parseRunbook(RUNBOOK, 'every-operation.md');
  expect(problems).toEqual([]);
  runId = (await engine.startRun({ runbook: runbook!, source: RUNBOOK, runbookId: 'every-operation', params: PARAMS, user: 'ops' })).id;
});

afterAll(async () => {
  await engine?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('every operation from a runbook equals the SDK sent directly', () => {
  it('GetItem', async () => {
    const ex = await execute('get');
    const out = await sendDirect(direct, ex.request);
    expect(ex.items).toEqual([out.Item]);
    expect(ex.items[0]).toEqual(SEED[0]);
  });

  it('Query on the table and on an index', async () => {
    for (const step of ['query', 'query-index']) {
      const ex = await execute(step);
      const out = await sendDirect(direct, ex.request);
      expect(ex.items).toEqual(out.Items);
      expect(ex.count).toBe(out.Count);
      expect(ex.items.length).toBeGreaterThan(0);
      expect(ex.keys).toEqual(step === 'query' ? ['pk', 'sk'] : ['status', 'pk', 'sk']);
    }
  });

  it('Scan with a typed parameter in a filter', async () => {
    const ex = await execute('scan');
    expect(ex.request.input).toMatchObject({ ExpressionAttributeValues: { ':n': 2 } });
    const out = await sendDirect(direct, ex.request);
    expect([...ex.items].sort(byKey)).toEqual([...(out.Items as never[])].sort(byKey));
    expect(ex.scannedCount).toBe(out.ScannedCount);
  });

  it('BatchGetItem and TransactGetItems', async () => {
    const batch = await execute('batch-get');
    const batchOut = await sendDirect(direct, batch.request);
    expect([...batch.items].sort(byKey)).toEqual([...(batchOut.Responses as Record<string, never[]>)[A]].sort(byKey));
    const tx = await execute('transact-get');
    const txOut = await sendDirect(direct, tx.request);
    expect(tx.items).toEqual((txOut.Responses as Array<{ Item: unknown }>).map((r) => r.Item));
  });

  it('DescribeTable', async () => {
    const ex = await execute('describe');
    const out = (await sendDirect(direct, ex.request)) as { Table: Record<string, unknown> };
    expect(ex.items).toHaveLength(1);
    for (const field of ['TableName', 'KeySchema', 'AttributeDefinitions', 'TableStatus']) expect(ex.items[0][field]).toEqual(out.Table[field]);
  });

  it('PartiQL SELECT, with the parameter bound', async () => {
    const ex = await execute('partiql-select');
    expect(ex.request.input).toEqual({ Statement: `SELECT pk, sk, n FROM "${A}" WHERE pk = ?`, Parameters: ['P1'], ReturnConsumedCapacity: 'TOTAL' });
    const out = await sendDirect(direct, ex.request);
    expect([...ex.items].sort(byKey)).toEqual([...(out.Items as never[])].sort(byKey));
  });

  it('every write leaves the table as the same request sent directly leaves its twin', async () => {
    expect(await scanAll(A)).toEqual((await scanAll(B)).map((i) => i));
    for (const step of ['put', 'update', 'delete', 'batch-write', 'transact-write', 'partiql-insert', 'partiql-update', 'partiql-delete']) {
      const ex = await execute(step);
      const out = await sendDirect(direct, onTwin(ex.request));
      if (out.Attributes !== undefined) expect(ex.attributes, step).toEqual(out.Attributes);
      expect(await scanAll(A), step).toEqual(await scanAll(B));
    }
    const final = await scanAll(A);
    expect(final.find((i) => i.sk === 'S9')).toBeUndefined();
    expect(final.find((i) => i.pk === 'P1' && i.sk === 'S8')).toMatchObject({ n: 2 });
    expect(final.find((i) => i.pk === 'P4')).toMatchObject({ n: 40 });
  });
});
