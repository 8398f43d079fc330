/**
 * The run store's tables in the sandbox: created at start under the prefix runbooks- (TTL on the
 * items table), and the only DynamoDB tables the base principal may use, with exactly the calls the
 * store makes. Runbook tables stay reachable only through the sessions of steps.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { STORE_ACTIONS } from '../../server/runs/dynamo-tables.js';
import { startSandbox } from '../../server/cli/local-sandbox.js';
import { dynamoClient, localDynamo, sandboxInfo } from '../helpers/sandbox.js';

const info = sandboxInfo();
const base = dynamoClient({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey });
const S = (s: string) => ({ S: s });

async function outcome(command: object): Promise<string> {
  try {
    await base.send(command as never);
    return 'allowed';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

afterAll(() => base.destroy());

describe('the run store in the sandbox', () => {
  it('has its tables from the start, TTL on for items, none on the audit chain', async () => {
    const local = localDynamo();
    try {
      const names = (await local.send(new ListTablesCommand({}))).TableNames ?? [];
      expect(names).toEqual(expect.arrayContaining(['runbooks-runs', 'runbooks-journal', 'runbooks-items', 'runbooks-audit']));
      const ttl = await local.send(new DescribeTimeToLiveCommand({ TableName: 'runbooks-items' }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
      // The audit chain's records are evidence: no TTL.
      const auditTtl = await local.send(new DescribeTimeToLiveCommand({ TableName: 'runbooks-audit' }));
      expect(auditTtl.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
    } finally {
      local.destroy();
    }
  });

  it("lets the base principal use the store tables, with the store's calls only", async () => {
    const key = { id: S('probe#check#1'), chunk: { N: '0' } };
    expect(await outcome(new DescribeTableCommand({ TableName: 'runbooks-runs' }))).toBe('allowed');
    expect(await outcome(new ScanCommand({ TableName: 'runbooks-runs', Limit: 1 }))).toBe('allowed');
    expect(
      await outcome(
        new QueryCommand({
          TableName: 'runbooks-journal',
          KeyConditionExpression: '#r = :r',
          ExpressionAttributeNames: { '#r': 'run' },
          ExpressionAttributeValues: { ':r': S('probe') },
        }),
      ),
    ).toBe('allowed');
    expect(await outcome(new PutItemCommand({ TableName: 'runbooks-items', Item: { ...key, count: { N: '0' } } }))).toBe('allowed');
    expect(await outcome(new GetItemCommand({ TableName: 'runbooks-items', Key: key }))).toBe('allowed');
    expect(await outcome(new DeleteItemCommand({ TableName: 'runbooks-items', Key: key }))).toBe('allowed');
    // The audit chain's table is one of them: a conditional put and a consistent query.
    expect(await outcome(new DescribeTableCommand({ TableName: 'runbooks-audit' }))).toBe('allowed');
    expect(
      await outcome(
        new QueryCommand({
          TableName: 'runbooks-audit',
          KeyConditionExpression: '#c = :c',
          ExpressionAttributeNames: { '#c': 'chain' },
          ExpressionAttributeValues: { ':c': S('probe') },
          ConsistentRead: true,
        }),
      ),
    ).toBe('allowed');
    // Nothing the store does not call: no updates, batches, table changes.
    const refused = (action: string, table = 'runbooks-runs') =>
      `AccessDeniedException: User: arn:aws:iam::${info.account}:user/runbooks-server is not authorized to perform: dynamodb:${action} on resource: arn:aws:dynamodb:${info.region}:${info.account}:table/${table} because no identity-based policy allows the dynamodb:${action} action`;
    expect(
      await outcome(
        new UpdateItemCommand({
          TableName: 'runbooks-runs',
          Key: { run: S('x') },
          UpdateExpression: 'SET #a = :a',
          ExpressionAttributeNames: { '#a': 'a' },
          ExpressionAttributeValues: { ':a': S('b') },
        }),
      ),
    ).toBe(refused('UpdateItem'));
    expect(await outcome(new BatchWriteItemCommand({ RequestItems: { 'runbooks-items': [{ DeleteRequest: { Key: key } }] } }))).toBe(refused('BatchWriteItem', 'runbooks-items'));
    expect(await outcome(new DeleteTableCommand({ TableName: 'runbooks-journal' }))).toBe(refused('DeleteTable', 'runbooks-journal'));
    expect(await outcome(new UpdateTimeToLiveCommand({ TableName: 'runbooks-items', TimeToLiveSpecification: { Enabled: false, AttributeName: 'expiresAt' } }))).toBe(
      refused('UpdateTimeToLive', 'runbooks-items'),
    );
    expect(
      await outcome(
        new CreateTableCommand({
          TableName: 'runbooks-new',
          KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      ),
    ).toBe(refused('CreateTable', 'runbooks-new'));
    expect(STORE_ACTIONS).toEqual(['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:Scan']);
  });

  it('refuses the base principal every runbook table', async () => {
    expect(await outcome(new GetItemCommand({ TableName: 'Customers', Key: { customerId: S('C1001') } }))).toBe(
      `AccessDeniedException: User: arn:aws:iam::${info.account}:user/runbooks-server is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:${info.region}:${info.account}:table/Customers because no identity-based policy allows the dynamodb:GetItem action`,
    );
    expect(await outcome(new ScanCommand({ TableName: 'Orders' }))).toMatch(/^AccessDeniedException: .*dynamodb:Scan on resource: .*table\/Orders because/);
    expect(await outcome(new DescribeTableCommand({ TableName: 'Payments' }))).toMatch(/^AccessDeniedException: .*dynamodb:DescribeTable on resource: .*table\/Payments because/);
    // A name that only looks like the prefix is another table.
    expect(await outcome(new DescribeTableCommand({ TableName: 'runbooksruns' }))).toMatch(/^AccessDeniedException: /);
  });

  it('refuses a seed table under the store prefix, before starting anything', async () => {
    const started = performance.now();
    await expect(
      startSandbox({
        config: {
          account: '000000000000',
          region: 'us-east-1',
          roles: [{ name: 'r', maxSessionDuration: 3600, policies: [] }],
          tables: [
            {
              input: {
                TableName: 'runbooks-customers',
                KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
                AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
              },
              items: [],
            },
          ],
        },
      }),
    ).rejects.toMatchObject({
      code: 'RB_ERR_CONFIG_INVALID',
      message: "The seed table runbooks-customers starts with the run store's prefix runbooks-, whose tables the server's identity may use: rename it.",
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
