// Every operation end to end: derived policy, a broker session, the executor, against the shared
// sandbox; each result compared with the same request sent directly with the Document Client.
// Reads run on one set of tables; a write runs through the executor on set A and directly on its
// twin B, and both outcomes and both tables' contents must then be equal.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRequest, type Cursor, type ExecutionResult } from '../../server/dynamo/execute.js';
import { dynamoError } from '../../server/dynamo/errors.js';
import { createBroker, credentialsOf, type Broker, type Session } from '../../server/access/broker.js';
import { deriveSessionPolicy, tablesOf } from '../../server/access/derive-policy.js';
import { createKeySchemaCache, type KeySchemaCache } from '../../server/access/key-schemas.js';
import { sessionName } from '../../server/access/session-name.js';
import { RbError } from '../../server/errors.js';
import type { RenderedRequest } from '../../server/runbook/types.js';
import { CreateTableCommand, DeleteTableCommand, ProvisionedThroughputExceededException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startGateway } from '../../server/sandbox/index.js';
import { sendDirect } from '../helpers/direct.js';
import { assumeRole, createTestTable, documentClient, localDynamo, roleArn, sandboxInfo, uniqueTableName } from '../helpers/sandbox.js';

const info = sandboxInfo();
const runId = `ex${randomBytes(5).toString('hex')}`;
const target = { region: info.region, endpoint: info.endpoint };
const A = { orders: uniqueTableName('exec-orders'), payments: uniqueTableName('exec-payments') };
const B = { orders: uniqueTableName('exec-orders'), payments: uniqueTableName('exec-payments') };
const local = DynamoDBDocumentClient.from(localDynamo());

const orders = [
  {
    pk: 'CUSTOMER#C1001',
    sk: 'ORDER#2026-11-01#A7',
    orderId: 'A7',
    status: 'SHIPPED',
    total: 42.5,
    currency: 'EUR',
    createdAt: '2026-11-01T09:12:00Z',
    lines: [
      { sku: 'BOOK-1', qty: 1 },
      { sku: 'PEN-3', qty: 2 },
    ],
  },
  {
    pk: 'CUSTOMER#C1001',
    sk: 'ORDER#2026-11-20#B2',
    orderId: 'B2',
    status: 'PENDING',
    total: 18,
    currency: 'EUR',
    createdAt: '2026-11-20T16:40:00Z',
    lines: [{ sku: 'MUG-2', qty: 1 }],
  },
  {
    pk: 'CUSTOMER#C1001',
    sk: 'ORDER#2026-11-25#C9',
    orderId: 'C9',
    status: 'PAYMENT_FAILED',
    total: 99.9,
    currency: 'EUR',
    createdAt: '2026-11-25T11:02:00Z',
    lines: [{ sku: 'LAMP-7', qty: 1 }],
  },
  {
    pk: 'CUSTOMER#C1002',
    sk: 'ORDER#2026-10-03#D4',
    orderId: 'D4',
    status: 'DELIVERED',
    total: 250,
    currency: 'USD',
    createdAt: '2026-10-03T13:00:00Z',
    lines: [{ sku: 'DESK-1', qty: 1 }],
  },
  {
    pk: 'CUSTOMER#C1002',
    sk: 'ORDER#2026-11-24#E5',
    orderId: 'E5',
    status: 'PENDING',
    total: 12.75,
    currency: 'USD',
    createdAt: '2026-11-24T07:45:00Z',
    lines: [{ sku: 'CABLE-9', qty: 3 }],
  },
  // A partition long enough to page through.
  ...Array.from({ length: 25 }, (_, i) => ({
    pk: 'CUSTOMER#PAGER',
    sk: `ORDER#2026-09-${String(i + 1).padStart(2, '0')}#P${i}`,
    orderId: `P${i}`,
    status: i % 3 === 0 ? 'PENDING' : 'SHIPPED',
    total: i * 1.25,
    currency: 'EUR',
    createdAt: `2026-09-${String(i + 1).padStart(2, '0')}T10:00:00Z`,
  })),
];
const payments = [
  { orderId: 'A7', paymentId: 'P-1001', state: 'CAPTURED', amount: 42.5 },
  { orderId: 'B2', paymentId: 'P-1002', state: 'AUTHORIZED', amount: 18 },
  { orderId: 'C9', paymentId: 'P-1003', state: 'FAILED', amount: 99.9, reason: 'insufficient_funds' },
  { orderId: 'C9', paymentId: 'P-1004', state: 'CAPTURED', amount: 99.9 },
];

async function createTables(set: typeof A): Promise<void> {
  await local.send(
    new CreateTableCommand({
      TableName: set.orders,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'ByStatus',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await createTestTable(set.payments, ['orderId', 'paymentId']);
  for (const item of orders) await local.send(new PutCommand({ TableName: set.orders, Item: item }));
  for (const item of payments) await local.send(new PutCommand({ TableName: set.payments, Item: item }));
}

let broker: Broker;
let keys: KeySchemaCache;
let direct: DynamoDBDocumentClient;
let step = 0;
const results: unknown[] = [];
const sessions: Session[] = [];

beforeAll(async () => {
  await Promise.all([createTables(A), createTables(B)]);
  broker = createBroker({ ...target, credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey } });
  keys = createKeySchemaCache({
    broker,
    ...target,
    roleArn: roleArn('runbook-tester'),
    runId,
    account: info.account,
    sourceIdentity: 'tester',
    tags: { run: runId },
  });
  direct = documentClient(await assumeRole('runbook-tester'));
}, 60_000);

afterAll(async () => {
  broker?.destroy();
  direct?.destroy();
  for (const t of [A.orders, A.payments, B.orders, B.payments]) await local.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
  local.destroy();
});

/** Runs a request as the server does: key schemas, derived policy, its own session, the executor. */
async function run(request: RenderedRequest, opts: { maxItems?: number; cursor?: Cursor; session?: Session } = {}): Promise<ExecutionResult & { session: Session }> {
  let session = opts.session;
  if (!session) {
    const partitionKeys = await keys.partitionKeys(tablesOf(request));
    session = await broker.assume({
      roleArn: roleArn('runbook-tester'),
      policy: deriveSessionPolicy(request, { region: info.region, account: info.account, partitionKeys }),
      sessionName: sessionName(runId, 'step', ++step),
      durationSeconds: 900,
      sourceIdentity: 'tester',
      tags: { run: runId },
    });
    sessions.push(session);
  }
  const result = await executeRequest(request, session, { ...target, maxItems: opts.maxItems ?? 100, cursor: opts.cursor });
  results.push(result);
  return { ...result, session };
}

async function runError(request: RenderedRequest): Promise<RbError> {
  const err = await run(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RbError);
  results.push({ message: (err as RbError).message, details: (err as RbError).details });
  return err as RbError;
}

/** The same request on the twin tables. */
function onTwin(request: RenderedRequest): RenderedRequest {
  let text = JSON.stringify(request);
  for (const key of ['orders', 'payments'] as const) text = text.split(A[key]).join(B[key]);
  return JSON.parse(text) as RenderedRequest;
}

async function contents(table: string): Promise<Record<string, unknown>[]> {
  const out = await local.send(new ScanCommand({ TableName: table }));
  const key = (i: Record<string, unknown>) => JSON.stringify([i.pk ?? i.orderId, i.sk ?? i.paymentId]);
  return (out.Items ?? []).sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

async function expectTwinsEqual(): Promise<void> {
  expect(await contents(A.orders)).toEqual(await contents(B.orders));
  expect(await contents(A.payments)).toEqual(await contents(B.payments));
}

describe("reads equal the Document Client's answer", () => {
  it('GetItem: the item, or none', async () => {
    const input = { TableName: A.orders, Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-01#A7' } };
    const got = await run({ operation: 'GetItem', input });
    const expected = await sendDirect(direct, { operation: 'GetItem', input });
    expect(got.items).toEqual([expected.Item]);
    expect(got).toMatchObject({ count: 1, hasMore: false });
    const none = await run({ operation: 'GetItem', input: { ...input, Key: { ...input.Key, sk: 'ORDER#NONE' } } });
    expect(none).toMatchObject({ items: [], count: 0, hasMore: false });
  });

  it('Query of the table and of an index', async () => {
    const table = {
      TableName: A.orders,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :o)',
      ExpressionAttributeValues: { ':pk': 'CUSTOMER#C1001', ':o': 'ORDER#' },
      ScanIndexForward: false,
    };
    const got = await run({ operation: 'Query', input: table });
    const expected = await sendDirect(direct, { operation: 'Query', input: table });
    expect(got.items).toEqual(expected.Items);
    expect(got.items.map((i) => i.orderId)).toEqual(['C9', 'B2', 'A7']);
    expect(got).toMatchObject({ count: 3, scannedCount: 3, hasMore: false });

    const index = {
      TableName: A.orders,
      IndexName: 'ByStatus',
      KeyConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'PENDING' },
    };
    const byIndex = await run({ operation: 'Query', input: index });
    expect(byIndex.items).toEqual((await sendDirect(direct, { operation: 'Query', input: index })).Items);
    expect(byIndex.count).toBe(11);
  });

  it('Scan with a filter, and a COUNT over every page', async () => {
    const input = { TableName: A.payments, FilterExpression: '#s = :c', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':c': 'CAPTURED' } };
    const got = await run({ operation: 'Scan', input });
    const expected = await sendDirect(direct, { operation: 'Scan', input });
    expect(got.items).toEqual(expected.Items);
    expect(got).toMatchObject({ count: 2, scannedCount: 4 });

    const count = await run({ operation: 'Scan', input: { TableName: A.orders, Select: 'COUNT' } }, { maxItems: 3 });
    expect(count).toMatchObject({ items: [], count: orders.length, scannedCount: orders.length, hasMore: false });
  });

  it('BatchGetItem: the items found, in request order, each with its table', async () => {
    const RequestItems = {
      [A.payments]: {
        Keys: [
          { orderId: 'C9', paymentId: 'P-1004' },
          { orderId: 'NONE', paymentId: 'x' },
          { orderId: 'A7', paymentId: 'P-1001' },
        ],
      },
      [A.orders]: { Keys: [{ pk: 'CUSTOMER#C1002', sk: 'ORDER#2026-10-03#D4' }], ProjectionExpression: 'orderId, #t', ExpressionAttributeNames: { '#t': 'total' } },
    };
    const got = await run({ operation: 'BatchGetItem', input: { RequestItems } });
    const expected = await sendDirect(direct, { operation: 'BatchGetItem', input: { RequestItems } });
    expect(got.items).toEqual([payments[3], payments[0], { orderId: 'D4', total: 250 }]);
    expect(got.itemTables).toEqual([A.payments, A.payments, A.orders]);
    const byTable = (t: string) => got.items.filter((_, i) => got.itemTables![i] === t);
    const sortById = (l: Record<string, unknown>[]) => [...l].sort((a, b) => String(a.paymentId ?? a.orderId).localeCompare(String(b.paymentId ?? b.orderId)));
    expect(sortById(byTable(A.payments))).toEqual(sortById(expected.Responses![A.payments]));
    expect(byTable(A.orders)).toEqual(expected.Responses![A.orders]);
    expect(got.count).toBe(3);
  });

  it('TransactGetItems: the items found, with their tables', async () => {
    const TransactItems = [
      { Get: { TableName: A.orders, Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-25#C9' } } },
      { Get: { TableName: A.payments, Key: { orderId: 'C9', paymentId: 'P-1003' } } },
    ];
    const got = await run({ operation: 'TransactGetItems', input: { TransactItems } });
    const expected = await sendDirect(direct, { operation: 'TransactGetItems', input: { TransactItems } });
    expect(got.items).toEqual(expected.Responses.map((r: { Item?: unknown }) => r.Item));
    expect(got.itemTables).toEqual([A.orders, A.payments]);
  });

  it('DescribeTable: the table description as one item', async () => {
    const got = await run({ operation: 'DescribeTable', input: { TableName: A.orders } });
    const expected = await sendDirect(direct, { operation: 'DescribeTable', input: { TableName: A.orders } });
    expect(got.items).toEqual([JSON.parse(JSON.stringify(expected.Table))]);
    expect(got.items[0]).toMatchObject({ TableName: A.orders, CreationDateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('PartiQL SELECT, on the table and on an index', async () => {
    const Statement = `SELECT orderId, total FROM "${A.orders}" WHERE pk = ? AND begins_with(sk, ?)`;
    const got = await run({ operation: 'ExecuteStatement', statementKind: 'select', input: { Statement, Parameters: ['CUSTOMER#C1001', 'ORDER#'] } });
    const expected = await sendDirect(direct, { operation: 'ExecuteStatement', input: { Statement, Parameters: ['CUSTOMER#C1001', 'ORDER#'] } });
    expect(got.items).toEqual(expected.Items);
    expect(got.items).toEqual([
      { orderId: 'A7', total: 42.5 },
      { orderId: 'B2', total: 18 },
      { orderId: 'C9', total: 99.9 },
    ]);

    const onIndex = `SELECT orderId FROM "${A.orders}"."ByStatus" WHERE status = ?`;
    const viaIndex = await run({ operation: 'ExecuteStatement', statementKind: 'select', input: { Statement: onIndex, Parameters: ['PENDING'] } });
    expect(viaIndex.items).toEqual((await sendDirect(direct, { operation: 'ExecuteStatement', input: { Statement: onIndex, Parameters: ['PENDING'] } })).Items);
  });
});

describe('paging: up to maxItems, then a cursor kept by the server', () => {
  const pager = { TableName: '', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'CUSTOMER#PAGER' } };

  it('Query: pages of maxItems, continued with a stored cursor, add up to the whole result', async () => {
    const input = { ...pager, TableName: A.orders };
    const all = (await sendDirect(direct, { operation: 'Query', input })).Items!;
    expect(all).toHaveLength(25);
    const first = await run({ operation: 'Query', input }, { maxItems: 10 });
    expect(first).toMatchObject({ count: 10, hasMore: true, cursor: { delivered: 10 } });
    // The cursor is plain data: it survives being stored as JSON with the run.
    const stored = JSON.parse(JSON.stringify(first.cursor)) as Cursor;
    const second = await run({ operation: 'Query', input }, { maxItems: 10, cursor: stored, session: first.session });
    const third = await run({ operation: 'Query', input }, { maxItems: 10, cursor: second.cursor, session: first.session });
    expect(second).toMatchObject({ count: 10, hasMore: true, cursor: { delivered: 20 } });
    expect(third).toMatchObject({ count: 5, hasMore: false });
    expect(third.cursor).toBeUndefined();
    expect([...first.items, ...second.items, ...third.items]).toEqual(all);
  });

  it("a request's own Limit is the size of each execution, as in the API", async () => {
    const input = { ...pager, TableName: A.orders, Limit: 4 };
    const direct1 = await sendDirect(direct, { operation: 'Query', input });
    const direct2 = await sendDirect(direct, { operation: 'Query', input: { ...input, ExclusiveStartKey: direct1.LastEvaluatedKey } });
    const first = await run({ operation: 'Query', input }, { maxItems: 100 });
    expect(first.items).toEqual(direct1.Items);
    expect(first).toMatchObject({ count: 4, hasMore: true });
    const second = await run({ operation: 'Query', input }, { maxItems: 100, cursor: first.cursor, session: first.session });
    expect(second.items).toEqual(direct2.Items);
  });

  it('a FilterExpression pages on until maxItems items pass it', async () => {
    const input = {
      ...pager,
      TableName: A.orders,
      FilterExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ...pager.ExpressionAttributeValues, ':s': 'PENDING' },
    };
    const expected = (await sendDirect(direct, { operation: 'Query', input })).Items!;
    expect(expected).toHaveLength(9);
    const first = await run({ operation: 'Query', input }, { maxItems: 5 });
    expect(first.items).toEqual(expected.slice(0, 5));
    expect(first.hasMore).toBe(true);
    const rest = await run({ operation: 'Query', input }, { maxItems: 5, cursor: first.cursor, session: first.session });
    expect(rest.items).toEqual(expected.slice(5));
  });

  it('Scan and PartiQL SELECT page the same way', async () => {
    const all = (await sendDirect(direct, { operation: 'Scan', input: { TableName: A.orders } })).Items!;
    let cursor: Cursor | undefined;
    const scanned: Record<string, unknown>[] = [];
    let session: Session | undefined;
    do {
      const page = await run({ operation: 'Scan', input: { TableName: A.orders } }, { maxItems: 7, cursor, session });
      session = page.session;
      expect(page.items.length).toBeLessThanOrEqual(7);
      scanned.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    expect(scanned).toEqual(all);

    const Statement = `SELECT * FROM "${A.orders}" WHERE pk = ?`;
    const everything = (await sendDirect(direct, { operation: 'ExecuteStatement', input: { Statement, Parameters: ['CUSTOMER#PAGER'] } })).Items!;
    const request: RenderedRequest = { operation: 'ExecuteStatement', statementKind: 'select', input: { Statement, Parameters: ['CUSTOMER#PAGER'] } };
    const p1 = await run(request, { maxItems: 20 });
    expect(p1).toMatchObject({ count: 20, hasMore: true, cursor: { nextToken: expect.any(String), delivered: 20 } });
    const p2 = await run(request, { maxItems: 20, cursor: p1.cursor, session: p1.session });
    expect([...p1.items, ...p2.items]).toEqual(everything);
  });
});

describe("writes have the same outcome as the Document Client's", () => {
  /** The request through the executor on set A, and sent directly on its twin B: both outcomes, the tables checked equal. */
  async function twin(request: RenderedRequest) {
    const got = await run(request);
    const expected = await sendDirect(direct, onTwin(request));
    await expectTwinsEqual();
    return { got, expected };
  }

  it('PutItem, with the old item returned', async () => {
    const request: RenderedRequest = {
      operation: 'PutItem',
      input: { TableName: A.payments, Item: { orderId: 'B2', paymentId: 'P-1002', state: 'CAPTURED', amount: 18, note: "O'Brien & <Co>" }, ReturnValues: 'ALL_OLD' },
    };
    const { got, expected } = await twin(request);
    expect(got).toMatchObject({ items: [], count: 1, hasMore: false, attributes: expected.Attributes });
    expect(got.attributes).toEqual(payments[1]);
  });

  it('UpdateItem with a condition, returning the new item', async () => {
    const request: RenderedRequest = {
      operation: 'UpdateItem',
      input: {
        TableName: A.orders,
        Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-25#C9' },
        UpdateExpression: 'SET #s = :new, #t = #t + :fee',
        ConditionExpression: '#s = :old',
        ExpressionAttributeNames: { '#s': 'status', '#t': 'total' },
        ExpressionAttributeValues: { ':new': 'PENDING', ':old': 'PAYMENT_FAILED', ':fee': 0.1 },
        ReturnValues: 'ALL_NEW',
        ReturnConsumedCapacity: 'TOTAL',
      },
    };
    const { got, expected } = await twin(request);
    expect(got.attributes).toEqual(expected.Attributes);
    expect(got.attributes).toMatchObject({ status: 'PENDING', total: 100 });
    expect(got.consumedCapacity).toEqual([{ TableName: A.orders, CapacityUnits: expect.any(Number) }]);
  });

  it('DeleteItem, returning the deleted item', async () => {
    const request: RenderedRequest = { operation: 'DeleteItem', input: { TableName: A.payments, Key: { orderId: 'C9', paymentId: 'P-1003' }, ReturnValues: 'ALL_OLD' } };
    const { got, expected } = await twin(request);
    expect(got.attributes).toEqual(expected.Attributes);
    expect(got.count).toBe(1);
  });

  it('BatchWriteItem: puts and deletes over two tables', async () => {
    const request: RenderedRequest = {
      operation: 'BatchWriteItem',
      input: {
        RequestItems: {
          [A.orders]: [
            { PutRequest: { Item: { pk: 'CUSTOMER#C1003', sk: 'ORDER#2026-11-26#H1', orderId: 'H1', status: 'PENDING', total: 5, createdAt: '2026-11-26T08:00:00Z' } } },
            { DeleteRequest: { Key: { pk: 'CUSTOMER#C1002', sk: 'ORDER#2026-11-24#E5' } } },
          ],
          [A.payments]: [{ PutRequest: { Item: { orderId: 'H1', paymentId: 'P-2001', state: 'AUTHORIZED', amount: 5 } } }],
        },
      },
    };
    const { got } = await twin(request);
    expect(got).toMatchObject({ items: [], count: 3, hasMore: false });
    expect(got.unprocessed).toBeUndefined();
  });

  it('TransactWriteItems: a condition check, an update and a put; count of the writes', async () => {
    const request: RenderedRequest = {
      operation: 'TransactWriteItems',
      input: {
        TransactItems: [
          {
            ConditionCheck: {
              TableName: A.payments,
              Key: { orderId: 'C9', paymentId: 'P-1004' },
              ConditionExpression: '#s = :c',
              ExpressionAttributeNames: { '#s': 'state' },
              ExpressionAttributeValues: { ':c': 'CAPTURED' },
            },
          },
          {
            Update: {
              TableName: A.orders,
              Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-25#C9' },
              UpdateExpression: 'SET #s = :p',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':p': 'PAID' },
            },
          },
          { Put: { TableName: A.payments, Item: { orderId: 'C9', paymentId: 'P-2002', state: 'REFUNDED', amount: -99.9 } } },
        ],
      },
    };
    const { got } = await twin(request);
    expect(got).toMatchObject({ items: [], count: 2 });
  });

  it('PartiQL INSERT, UPDATE (with RETURNING) and DELETE', async () => {
    const insert = await twin({
      operation: 'ExecuteStatement',
      statementKind: 'insert',
      input: { Statement: `INSERT INTO "${A.payments}" VALUE {'orderId': ?, 'paymentId': ?, 'state': ?, 'amount': ?}`, Parameters: ['D4', 'P-3001', 'CAPTURED', 1.5] },
    });
    expect(insert.got).toMatchObject({ items: [], count: 1 });
    const update = await twin({
      operation: 'ExecuteStatement',
      statementKind: 'update',
      input: { Statement: `UPDATE "${A.payments}" SET amount = ? WHERE orderId = ? AND paymentId = ? RETURNING ALL NEW *`, Parameters: [2.5, 'D4', 'P-3001'] },
    });
    expect(update.got.items).toEqual(update.expected.Items);
    expect(update.got.items).toEqual([{ orderId: 'D4', paymentId: 'P-3001', state: 'CAPTURED', amount: 2.5 }]);
    await twin({
      operation: 'ExecuteStatement',
      statementKind: 'delete',
      input: { Statement: `DELETE FROM "${A.payments}" WHERE orderId = ? AND paymentId = ?`, Parameters: ['D4', 'P-3001'] },
    });
    expect((await contents(A.payments)).some((p) => p.paymentId === 'P-3001')).toBe(false);
  });
});

describe('values come back as plain JSON', () => {
  it('sets as arrays, binary as base64, numbers exact: JS numbers where they fit, else strings', async () => {
    await localDynamo().send(
      new PutItemCommand({
        TableName: A.payments,
        Item: {
          orderId: { S: 'VALUES' },
          paymentId: { S: 'V-1' },
          tags: { SS: ['a', 'b'] },
          sizes: { NS: ['1', '2.5'] },
          blob: { B: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) },
          huge: { N: '123456789012345678901234567890' },
          precise: { N: '0.1000000000000000000001' },
          small: { N: '-12.75' },
          nothing: { NULL: true },
          nested: { M: { list: { L: [{ N: '1' }, { BOOL: true }, { S: 'x' }] } } },
        },
      }),
    );
    const got = await run({ operation: 'GetItem', input: { TableName: A.payments, Key: { orderId: 'VALUES', paymentId: 'V-1' } } });
    expect(got.items[0]).toEqual({
      orderId: 'VALUES',
      paymentId: 'V-1',
      tags: ['a', 'b'],
      sizes: [1, 2.5],
      blob: '3q2+7w==',
      huge: '123456789012345678901234567890',
      precise: '0.1000000000000000000001',
      small: -12.75,
      nothing: null,
      nested: { list: [1, true, 'x'] },
    });
    expect(JSON.parse(JSON.stringify(got.items))).toEqual(got.items);
  });
});

describe('AWS errors become step errors with the AWS code and what to do', () => {
  it('ConditionalCheckFailedException, with the item as it is', async () => {
    const err = await runError({
      operation: 'PutItem',
      input: {
        TableName: A.payments,
        Item: { orderId: 'A7', paymentId: 'P-1001', state: 'VOID' },
        ConditionExpression: 'attribute_not_exists(orderId)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(err.code).toBe('RB_ERR_DYNAMO_CONDITION_FAILED');
    expect(err.details).toMatchObject({ awsCode: 'ConditionalCheckFailedException', item: payments[0] });
    expect(err.message).toMatch(/nothing was written.*Re-read the item and decide/);
  });

  it('TransactionCanceledException, with the reason of each part', async () => {
    const err = await runError({
      operation: 'TransactWriteItems',
      input: {
        TransactItems: [
          { Put: { TableName: A.payments, Item: { orderId: 'A7', paymentId: 'P-9' } } },
          {
            ConditionCheck: {
              TableName: A.orders,
              Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-01#A7' },
              ConditionExpression: '#s = :x',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':x': 'CANCELLED' },
            },
          },
        ],
      },
    });
    expect(err.code).toBe('RB_ERR_DYNAMO_TRANSACTION_CANCELED');
    expect(err.details).toMatchObject({
      awsCode: 'TransactionCanceledException',
      reasons: [
        { part: 1, code: 'None' },
        { part: 2, code: 'ConditionalCheckFailed' },
      ],
    });
    expect(err.message).toContain('part 2: ConditionalCheckFailed');
    expect((await contents(A.payments)).some((p) => p.paymentId === 'P-9')).toBe(false);
  });

  it('ValidationException', async () => {
    const err = await runError({ operation: 'GetItem', input: { TableName: A.orders, Key: { pk: 'CUSTOMER#C1001' } } });
    expect(err.code).toBe('RB_ERR_DYNAMO_VALIDATION');
    expect(err.details).toMatchObject({ awsCode: 'ValidationException' });
    expect(err.message).toContain("Fix the step's request");
  });

  it('ResourceNotFoundException', async () => {
    const err = await runError({ operation: 'Scan', input: { TableName: uniqueTableName('missing') } });
    expect(err.code).toBe('RB_ERR_DYNAMO_NOT_FOUND');
    expect(err.details).toMatchObject({ awsCode: 'ResourceNotFoundException' });
    expect(err.message).toContain('Check TableName and IndexName');
  });

  it("AccessDeniedException for anything beyond the step's policy", async () => {
    const own = await run({ operation: 'GetItem', input: { TableName: A.orders, Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-01#A7' } } });
    const err = await executeRequest({ operation: 'Scan', input: { TableName: A.orders } }, own.session, { ...target, maxItems: 10 }).catch((e: RbError) => e);
    expect(err).toMatchObject({ code: 'RB_ERR_DYNAMO_ACCESS_DENIED', details: { awsCode: 'AccessDeniedException' } });
  });

  it("throttling, which DynamoDB Local never does: the SDK's exception maps to RB_ERR_DYNAMO_THROTTLED", () => {
    const err = dynamoError(
      new ProvisionedThroughputExceededException({ $metadata: { httpStatusCode: 400 }, message: 'The level of configured provisioned throughput for the table was exceeded.' }),
    );
    expect(err.code).toBe('RB_ERR_DYNAMO_THROTTLED');
    expect(err.details).toMatchObject({ awsCode: 'ProvisionedThroughputExceededException' });
    expect(err.message).toContain('wait a moment and run the step again');
  });
});

describe('a session DynamoDB no longer accepts', () => {
  it('an expired session is a step error that says to execute the step again', async () => {
    // A gateway of its own whose clock can run ahead of this one (same DynamoDB Local).
    let offsetMs = 0;
    const gateway = await startGateway({
      config: {
        account: info.account,
        region: info.region,
        roles: [{ name: 'expiry-tester', maxSessionDuration: 3600, policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] }] }],
        tables: [],
      },
      dynamoLocalEndpoint: info.dynamoLocalEndpoint,
      clock: () => Date.now() + offsetMs,
    });
    const own = createBroker({ region: info.region, endpoint: gateway.endpoint, credentials: gateway.baseCredentials });
    try {
      const request: RenderedRequest = { operation: 'GetItem', input: { TableName: A.orders, Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-01#A7' } } };
      const session = await own.assume({
        roleArn: gateway.roles[0].arn,
        policy: deriveSessionPolicy(request, { region: info.region, account: info.account, partitionKeys: { [A.orders]: 'pk' } }),
        sessionName: sessionName(runId, 'expiring'),
        durationSeconds: 900,
        sourceIdentity: 'tester',
        tags: {},
      });
      const opts = { region: info.region, endpoint: gateway.endpoint, maxItems: 10 };
      expect((await executeRequest(request, session, opts)).count).toBe(1);
      offsetMs = 901_000;
      const err = await executeRequest(request, session, opts).catch((e: RbError) => e);
      expect(err).toMatchObject({ code: 'RB_ERR_DYNAMO', details: { awsCode: 'ExpiredTokenException' } });
      expect((err as RbError).message).toContain('it has expired or was revoked. Execute the step again');
    } finally {
      own.destroy();
      await gateway.stop();
    }
  });
});

describe('output', () => {
  it('prints nothing of its own: no SDK warning on stderr in a fresh process', async () => {
    const script = join(mkdtempSync(join(tmpdir(), 'rb-exec-')), 'quiet.ts');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    writeFileSync(
      script,
      `import { createBroker } from '${root}server/access/broker.ts';
import { deriveSessionPolicy } from '${root}server/access/derive-policy.ts';
import { executeRequest } from '${root}server/dynamo/execute.ts';
const env = JSON.parse(process.env.RB_TEST_SANDBOX);
const broker = createBroker({ region: env.region, endpoint: env.endpoint, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey } });
const request = { operation: 'DescribeTable', input: { TableName: 'Customers' } };
const session = await broker.assume({ roleArn: env.role, policy: deriveSessionPolicy(request, { region: env.region, account: env.account, partitionKeys: {} }), sessionName: 'rb-quiet-describe', durationSeconds: 900, sourceIdentity: 'tester', tags: { run: 'quiet' } });
const result = await executeRequest(request, session, { region: env.region, endpoint: env.endpoint, maxItems: 1 });
const denied = await executeRequest({ operation: 'Scan', input: { TableName: 'Customers' } }, session, { region: env.region, endpoint: env.endpoint, maxItems: 1 }).catch((e) => e.code);
broker.destroy();
process.stdout.write(JSON.stringify({ table: result.items[0].TableName, denied }) + '\\n');
`,
    );
    const child = spawnSync(process.execPath, [join(root, 'node_modules/vite-node/vite-node.mjs'), script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      // The child starts without the switch this process has by now: the modules must set it themselves.
      env: { ...withoutSdkSwitch(process.env), RB_TEST_SANDBOX: JSON.stringify({ ...info, role: roleArn('runbook-readonly') }) },
    });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('{"table":"Customers","denied":"RB_ERR_DYNAMO_ACCESS_DENIED"}\n');
    expect(child.status).toBe(0);
  }, 60_000);
});

function withoutSdkSwitch(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _switch, ...rest } = env;
  return rest;
}

describe('secrets', () => {
  it('no session key or token appears in any result or error of this file', () => {
    expect(sessions.length).toBeGreaterThan(10);
    const text = JSON.stringify(results);
    for (const s of sessions) {
      const c = credentialsOf(s);
      expect(text).not.toContain(c.secretAccessKey);
      expect(text).not.toContain(c.sessionToken);
      expect(text).not.toContain(c.accessKeyId);
    }
  });
});
