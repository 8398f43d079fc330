/**
 * The gateway's authorisation through the real SDK clients against the suite's shared sandbox:
 * a session reads what its session policy allows and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  ExecuteStatementCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { assumeRole, documentClient, dynamoClient, localDynamo, sandboxInfo, stsClient, uniqueTableName, type SessionCredentials } from '../helpers/sandbox.js';

const info = sandboxInfo();
const arn = (table: string): string => `arn:aws:dynamodb:${info.region}:${info.account}:table/${table}`;
const policy = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const S = (s: string) => ({ S: s });

/** The AWS error a request fails with (name and message), or 'allowed'. */
// Any DynamoDB command: the SDK types each command's middleware separately, so a union does not type-check.
async function outcome(credentials: SessionCredentials | { accessKeyId: string; secretAccessKey: string }, command: object): Promise<string> {
  const client = dynamoClient(credentials);
  try {
    await client.send(command as never);
    return 'allowed';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    client.destroy();
  }
}

describe("a session scoped to one customer's orders", () => {
  let session: SessionCredentials & { arn: string };
  const orderKey = { pk: S('CUSTOMER#C1001'), sk: S('ORDER#2026-11-01#A7') };

  beforeAll(async () => {
    session = await assumeRole('runbook-runner', {
      RoleSessionName: 'rb-access-orders',
      Policy: policy({
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: arn('Orders'),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001'] } },
      }),
    });
  });

  it('reads the items its policy allows, as seeded by the Document Client', async () => {
    const doc = documentClient(session);
    const got = await doc.send(new GetCommand({ TableName: 'Orders', Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-01#A7' } }));
    expect(got.Item).toMatchObject({
      orderId: 'A7',
      status: 'SHIPPED',
      total: 42.5,
      lines: [
        { sku: 'BOOK-1', qty: 1 },
        { sku: 'PEN-3', qty: 2 },
      ],
    });
    doc.destroy();
    const client = dynamoClient(session);
    const q = await client.send(
      new QueryCommand({
        TableName: 'Orders',
        KeyConditionExpression: '#p = :pk AND begins_with(sk, :o)',
        ExpressionAttributeNames: { '#p': 'pk' },
        ExpressionAttributeValues: { ':pk': S('CUSTOMER#C1001'), ':o': S('ORDER#') },
      }),
    );
    expect(q.Items?.map((i) => i.orderId.S)).toEqual(['A7', 'B2', 'C9']);
    client.destroy();
  });

  it('is refused on another table, naming principal, action and resource', async () => {
    expect(await outcome(session, new GetItemCommand({ TableName: 'Customers', Key: { customerId: S('C1001') } }))).toBe(
      `AccessDeniedException: User: ${session.arn} is not authorized to perform: dynamodb:GetItem on resource: ${arn('Customers')} because no session policy allows the dynamodb:GetItem action`,
    );
  });

  it('is refused on an index it was not granted', async () => {
    expect(
      await outcome(
        session,
        new QueryCommand({
          TableName: 'Orders',
          IndexName: 'ByStatus',
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': S('PENDING') },
        }),
      ),
    ).toBe(
      `AccessDeniedException: User: ${session.arn} is not authorized to perform: dynamodb:Query on resource: ${arn('Orders')}/index/ByStatus because no session policy allows the dynamodb:Query action`,
    );
  });

  it('is refused a write when only reads are granted', async () => {
    expect(await outcome(session, new PutItemCommand({ TableName: 'Orders', Item: { ...orderKey, status: S('HACKED') } }))).toMatch(
      /^AccessDeniedException: .* dynamodb:PutItem on resource: .*table\/Orders because no session policy allows the dynamodb:PutItem action$/,
    );
    // and the item is untouched
    const doc = documentClient(session);
    expect((await doc.send(new GetCommand({ TableName: 'Orders', Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-01#A7' } }))).Item?.status).toBe('SHIPPED');
    doc.destroy();
  });

  it('is refused a partition key outside dynamodb:LeadingKeys, for GetItem and Query alike', async () => {
    expect(await outcome(session, new GetItemCommand({ TableName: 'Orders', Key: { pk: S('CUSTOMER#C1002'), sk: S('ORDER#2026-10-03#D4') } }))).toMatch(
      /^AccessDeniedException: .*dynamodb:GetItem on resource: .*table\/Orders because no session policy allows/,
    );
    expect(
      await outcome(session, new QueryCommand({ TableName: 'Orders', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': S('CUSTOMER#C1002') } })),
    ).toMatch(/^AccessDeniedException: .*dynamodb:Query/);
    // the legacy KeyConditions form is read too
    expect(
      await outcome(session, new QueryCommand({ TableName: 'Orders', KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('CUSTOMER#C1002')] } } })),
    ).toMatch(/^AccessDeniedException: /);
    expect(await outcome(session, new QueryCommand({ TableName: 'Orders', KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('CUSTOMER#C1001')] } } }))).toBe(
      'allowed',
    );
  });

  it('is itself: GetCallerIdentity names the assumed role and session', async () => {
    const sts = stsClient(session);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    expect(me.Arn).toBe(`arn:aws:sts::${info.account}:assumed-role/runbook-runner/rb-access-orders`);
    expect(me.UserId).toMatch(/^AROA[A-Z0-9]{17}:rb-access-orders$/);
    expect(me.Account).toBe(info.account);
  });
});

describe('actions and resources derived as AWS does', () => {
  it('a batch needs its action on every table it touches', async () => {
    const s = await assumeRole('runbook-runner', { Policy: policy({ Effect: 'Allow', Action: 'dynamodb:BatchGetItem', Resource: arn('Orders') }) });
    const both = new BatchGetItemCommand({
      RequestItems: { Orders: { Keys: [{ pk: S('CUSTOMER#C1001'), sk: S('ORDER#2026-11-01#A7') }] }, Payments: { Keys: [{ orderId: S('A7'), paymentId: S('P-1001') }] } },
    });
    expect(await outcome(s, both)).toMatch(/dynamodb:BatchGetItem on resource: .*table\/Payments because no session policy allows/);
    expect(await outcome(s, new BatchGetItemCommand({ RequestItems: { Orders: { Keys: [{ pk: S('CUSTOMER#C1001'), sk: S('ORDER#2026-11-01#A7') }] } } }))).toBe('allowed');
  });

  it('a transaction needs the item-level action of each part', async () => {
    const s = await assumeRole('runbook-runner', { Policy: policy({ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: [arn('Orders'), arn('Payments')] }) });
    const get = new TransactGetItemsCommand({
      TransactItems: [
        { Get: { TableName: 'Orders', Key: { pk: S('CUSTOMER#C1001'), sk: S('ORDER#2026-11-01#A7') } } },
        { Get: { TableName: 'Payments', Key: { orderId: S('A7'), paymentId: S('P-1001') } } },
      ],
    });
    expect(await outcome(s, get)).toBe('allowed');
    const check = new TransactWriteItemsCommand({
      TransactItems: [{ ConditionCheck: { TableName: 'Orders', Key: { pk: S('CUSTOMER#C1001'), sk: S('ORDER#2026-11-01#A7') }, ConditionExpression: 'attribute_exists(pk)' } }],
    });
    expect(await outcome(s, check)).toMatch(/dynamodb:ConditionCheckItem on resource: .*table\/Orders/);
  });

  it('PartiQL is authorised by statement kind, table, index and partition key', async () => {
    const s = await assumeRole('runbook-runner', {
      Policy: policy({
        Effect: 'Allow',
        Action: 'dynamodb:PartiQLSelect',
        Resource: arn('Orders'),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001'] } },
      }),
    });
    const select = (statement: string, parameters?: Array<{ S: string }>) => new ExecuteStatementCommand({ Statement: statement, Parameters: parameters });
    expect(await outcome(s, select('SELECT orderId FROM "Orders" WHERE pk = ?', [S('CUSTOMER#C1001')]))).toBe('allowed');
    expect(await outcome(s, select(`SELECT orderId FROM Orders WHERE pk = 'CUSTOMER#C1001' AND begins_with(sk, 'ORDER#')`))).toBe('allowed');
    expect(await outcome(s, select('SELECT orderId FROM "Orders" WHERE pk = ?', [S('CUSTOMER#C1002')]))).toMatch(
      /dynamodb:PartiQLSelect on resource: .*table\/Orders because no session policy/,
    );
    // a WHERE with OR may reach other partitions: refused under a LeadingKeys condition
    expect(await outcome(s, select(`SELECT * FROM "Orders" WHERE pk = 'CUSTOMER#C1001' OR status = 'PENDING'`))).toMatch(/^AccessDeniedException/);
    expect(await outcome(s, select(`SELECT * FROM "Orders"."ByStatus" WHERE status = 'PENDING'`))).toMatch(/dynamodb:PartiQLSelect on resource: .*table\/Orders\/index\/ByStatus/);
    expect(await outcome(s, select(`UPDATE "Orders" SET status = 'X' WHERE pk = 'CUSTOMER#C1001' AND sk = 'ORDER#2026-11-01#A7'`))).toMatch(
      /dynamodb:PartiQLUpdate on resource: .*table\/Orders/,
    );
  });

  it('a Scan has no partition key, so ForAllValues on LeadingKeys lets it through, as in AWS', async () => {
    const s = await assumeRole('runbook-runner', {
      Policy: policy({
        Effect: 'Allow',
        Action: 'dynamodb:Scan',
        Resource: arn('Orders'),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001'] } },
      }),
    });
    const client = dynamoClient(s);
    const all = await client.send(new ScanCommand({ TableName: 'Orders' }));
    client.destroy();
    expect(new Set(all.Items?.map((i) => i.pk.S))).toEqual(new Set(['CUSTOMER#C1001', 'CUSTOMER#C1002', 'CUSTOMER#C1003', 'CUSTOMER#C1004']));
  });

  it('conditions on the session: aws:SourceIdentity and aws:PrincipalTag', async () => {
    const p = policy({
      Effect: 'Allow',
      Action: 'dynamodb:GetItem',
      Resource: arn('Customers'),
      Condition: { StringEquals: { 'aws:SourceIdentity': 'alice', 'aws:PrincipalTag/team': 'support' } },
    });
    const get = () => new GetItemCommand({ TableName: 'Customers', Key: { customerId: S('C1001') } });
    const alice = await assumeRole('runbook-runner', { Policy: p, SourceIdentity: 'alice', Tags: [{ Key: 'team', Value: 'support' }] });
    const bob = await assumeRole('runbook-runner', { Policy: p, SourceIdentity: 'bob', Tags: [{ Key: 'team', Value: 'support' }] });
    expect(await outcome(alice, get())).toBe('allowed');
    expect(await outcome(bob, get())).toMatch(/^AccessDeniedException: .*because no session policy allows/);
  });
});

describe('principals without a grant', () => {
  it('the base principal has no DynamoDB permission on runbook tables (store-tables.test.ts: its own tables)', async () => {
    expect(await outcome({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey }, new ListTablesCommand({}))).toBe(
      `AccessDeniedException: User: arn:aws:iam::${info.account}:user/runbooks-server is not authorized to perform: dynamodb:ListTables on resource: * because no identity-based policy allows the dynamodb:ListTables action`,
    );
    expect(
      await outcome({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey }, new GetItemCommand({ TableName: 'Customers', Key: { customerId: S('C1001') } })),
    ).toMatch(/^AccessDeniedException: .*user\/runbooks-server .*dynamodb:GetItem/);
  });

  it("a session without a session policy has exactly its role's permissions", async () => {
    const ro = await assumeRole('runbook-readonly');
    expect(await outcome(ro, new ScanCommand({ TableName: 'Payments', Limit: 1 }))).toBe('allowed');
    expect(await outcome(ro, new PutItemCommand({ TableName: 'Payments', Item: { orderId: S('Z'), paymentId: S('Z') } }))).toMatch(
      /^AccessDeniedException: .*assumed-role\/runbook-readonly\/.* dynamodb:PutItem on resource: .*table\/Payments because no identity-based policy allows the dynamodb:PutItem action$/,
    );
  });
});

describe('writes through the gateway, on a table of this test', () => {
  const table = uniqueTableName('access');
  const local = localDynamo();

  beforeAll(async () => {
    await local.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(async () => {
    await local.send(new DeleteTableCommand({ TableName: table }));
    local.destroy();
  });

  it('a write allowed for one partition key lands; another key is refused and not written', async () => {
    const s = await assumeRole('runbook-tester', {
      Policy: policy({ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: arn(table), Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['mine'] } } }),
    });
    expect(await outcome(s, new PutItemCommand({ TableName: table, Item: { id: S('mine'), v: S('1') } }))).toBe('allowed');
    expect(await outcome(s, new PutItemCommand({ TableName: table, Item: { id: S('theirs'), v: S('1') } }))).toMatch(/^AccessDeniedException: /);
    const ids = (await local.send(new ScanCommand({ TableName: table }))).Items?.map((i) => i.id.S);
    expect(ids).toEqual(['mine']);
  });
});
